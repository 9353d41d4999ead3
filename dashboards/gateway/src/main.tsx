/**
 * The OT engineer's device dashboard, served by the gateway at `/`: after login (shared session
 * gate), hash routes to the device list (`#/devices`), a device (`#/device/<id>`), the link and
 * buffer status (`#/link`), the local alerts (`#/alerts`), what response playbooks block here
 * (`#/response`) and the user's account (`#/account`). Link state shows on every page;
 * everything updates from `GET /api/stream` without reloading.
 */
import { render } from 'preact';
import { AccountPage } from '../../shared/account.tsx';
import { useRoute } from '../../shared/router.ts';
import { SessionGate, useSession } from '../../shared/session.tsx';
import { useStreamState } from '../../shared/stream.ts';
import { Layout } from '../../shared/ui.tsx';
import { AlertsPage } from './alerts.tsx';
import { DevicePage } from './device.tsx';
import { DevicesPage } from './devices.tsx';
import { PipelinePanel, pipelineOf } from './pipeline.tsx';
import { ResponsePage } from './response.tsx';
import { LinkPanel, LinkPill, useGatewayStatus } from './status.tsx';

function App() {
  const route = useRoute();
  const { session, logout } = useSession();
  const live = useStreamState();
  const { status, drain } = useGatewayStatus();
  const page = route.parts[0] ?? 'devices';
  const title = `gateway ${status?.gateway ?? ''}`;
  return (
    <Layout
      title={title}
      nav={[
        { href: '#/devices', label: 'Devices', active: page === 'devices' || page === 'device' },
        { href: '#/link', label: 'Link & buffer', active: page === 'link' },
        { href: '#/alerts', label: 'Alerts', active: page === 'alerts' },
        { href: '#/response', label: 'Response', active: page === 'response' },
      ]}
      right={
        <>
          <a href="#/link">
            <LinkPill status={status} />
          </a>
          <span class={`live ${live ? 'on' : ''}`} title={live ? 'live updates on' : 'live updates off'} />
          <a href="#/account" title="my account: password, two-factor, API tokens">
            {session.user.username}
          </a>
          <button onClick={() => void logout()}>Log out</button>
        </>
      }
    >
      {page === 'device' && route.parts[1] ? (
        <DevicePage key={route.parts[1]} id={route.parts[1]} />
      ) : page === 'link' ? (
        status ? (
          <>
            <LinkPanel status={status} drain={drain} full />
            <PipelinePanel pipeline={pipelineOf(status)} />
          </>
        ) : (
          <p class="loading">Loading…</p>
        )
      ) : page === 'alerts' ? (
        <AlertsPage status={status} />
      ) : page === 'response' ? (
        <ResponsePage />
      ) : page === 'account' ? (
        <AccountPage />
      ) : (
        <>
          {status && (!status.link.connected || drain.draining || status.queue.events > 1000) && (
            <LinkPanel status={status} drain={drain} />
          )}
          <DevicesPage />
        </>
      )}
    </Layout>
  );
}

render(
  <SessionGate title="edge-siem gateway">
    <App />
  </SessionGate>,
  document.getElementById('app')!,
);
