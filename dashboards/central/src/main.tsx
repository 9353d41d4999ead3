/**
 * The SOC dashboard served by central at `/`: the session gate (login with TOTP), hash routes
 * to its pages (overview, alerts, search, gateways, devices, rules, response playbooks, reports, users and
 * audit log, and the
 * user's own account: password, two-factor, API tokens) and the
 * live-stream indicator. Pages talk to central's REST API and `GET /api/stream` only; the admin
 * pages are hidden from non-admins, and the server refuses them anyway (SPEC §1).
 */
import { render } from 'preact';
import { AccountPage } from '../../shared/account.tsx';
import { useRoute } from '../../shared/router.ts';
import { SessionGate, useSession } from '../../shared/session.tsx';
import { useStreamState } from '../../shared/stream.ts';
import { Layout } from '../../shared/ui.tsx';
import { AlertDetailPage } from './pages/alert-detail.tsx';
import { AlertsPage } from './pages/alerts.tsx';
import { DevicesPage } from './pages/devices.tsx';
import { IncidentDetailPage, IncidentsPage } from './incidents.tsx';
import { GatewaysPage } from './pages/gateways.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { PlaybooksPage } from './pages/playbooks.tsx';
import { ReportsPage } from './pages/reports.tsx';
import { RulesPage } from './pages/rules.tsx';
import { SearchPage } from './pages/search.tsx';
import { AuditPage, UsersPage } from './pages/users.tsx';

const TITLE = 'edge-siem SOC';

function App() {
  const route = useRoute();
  const { session, can, logout } = useSession();
  const live = useStreamState();
  const page = route.parts[0] ?? 'overview';
  const pages: Array<[string, string, boolean]> = [
    ['overview', 'Overview', true],
    ['alerts', 'Alerts', true],
    ['incidents', 'Incidents', true],
    ['search', 'Search', true],
    ['gateways', 'Gateways', true],
    ['devices', 'Devices', true],
    ['rules', 'Rules', true],
    ['playbooks', 'Playbooks', true],
    ['reports', 'Reports', can('reports')],
    ['users', 'Users', can('admin')],
    ['audit', 'Audit log', can('admin')],
  ];
  let body;
  switch (page) {
    case 'alerts':
      body = route.parts[1] ? (
        <AlertDetailPage key={route.parts[1]} id={route.parts[1]} />
      ) : (
        <AlertsPage route={route} />
      );
      break;
    case 'incidents':
      body = route.parts[1] ? (
        <IncidentDetailPage key={route.parts[1]} id={route.parts[1]} />
      ) : (
        <IncidentsPage route={route} />
      );
      break;
    case 'search':
      body = <SearchPage route={route} />;
      break;
    case 'gateways':
      body = <GatewaysPage />;
      break;
    case 'devices':
      body = <DevicesPage route={route} />;
      break;
    case 'rules':
      body = <RulesPage />;
      break;
    case 'playbooks':
      body = <PlaybooksPage />;
      break;
    case 'reports':
      body = <ReportsPage />;
      break;
    case 'users':
      body = <UsersPage />;
      break;
    case 'audit':
      body = <AuditPage route={route} />;
      break;
    case 'account':
      body = <AccountPage />;
      break;
    default:
      body = <OverviewPage />;
  }
  return (
    <Layout
      title={TITLE}
      nav={pages
        .filter(([, , shown]) => shown)
        .map(([id, label]) => ({ href: `#/${id}`, label, active: id === page }))}
      right={
        <>
          <span
            class={`live ${live ? 'on' : ''}`}
            title={live ? 'live updates on' : 'live updates off'}
            data-live={live}
          />
          <a href="#/account" title="my account: password, two-factor, API tokens">
            {session.user.username} <span class="muted">({session.user.role})</span>
          </a>
          <button onClick={() => void logout()}>Log out</button>
        </>
      }
    >
      {body}
    </Layout>
  );
}

render(
  <SessionGate title={TITLE}>
    <App />
  </SessionGate>,
  document.getElementById('app')!,
);
