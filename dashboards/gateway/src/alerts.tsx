/**
 * Local alerts: raised by the gateway's own rules and baselines, so they are here while central
 * is unreachable too (the banner says so). New and updated alerts arrive live.
 */
import { ago } from '../../shared/format.ts';
import { href } from '../../shared/router.ts';
import { useStream } from '../../shared/stream.ts';
import { ErrorBanner, SeverityBadge, Tags, useApi } from '../../shared/ui.tsx';
import type { AlertSummary, GatewayStatus } from './types.ts';

export function upsertAlert(list: AlertSummary[], alert: AlertSummary, max = 500): AlertSummary[] {
  return [alert, ...list.filter((a) => a.alert_id !== alert.alert_id)].slice(0, max);
}

export function AlertTable({ alerts, showDevice = true }: { alerts: AlertSummary[]; showDevice?: boolean }) {
  if (alerts.length === 0) return <p class="muted">No alert.</p>;
  return (
    <div class="table-wrap">
      <table data-testid="alerts">
        <thead>
          <tr>
            <th>When</th>
            <th>Severity</th>
            <th>Alert</th>
            {showDevice && <th>Device</th>}
            <th>ATT&CK</th>
            <th class="num">Count</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.alert_id}>
              <td title={a.ts}>{ago(a.ts)}</td>
              <td>
                <SeverityBadge severity={a.severity} />
              </td>
              <td>{a.rule_name ?? a.message}</td>
              {showDevice && (
                <td>
                  {a.device ? <a href={href(`device/${encodeURIComponent(a.device)}`)}>{a.device}</a> : '—'}
                </td>
              )}
              <td>
                <Tags items={a.techniques} />
              </td>
              <td class="num">{a.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AlertsPage({ status }: { status: GatewayStatus | undefined }) {
  const list = useApi<{ alerts: AlertSummary[] }>('/api/alerts?limit=500');
  useStream<AlertSummary>('alert', (a) => list.set((old) => old && { alerts: upsertAlert(old.alerts, a) }));
  return (
    <section class="card">
      <h1>Local alerts</h1>
      {status && !status.link.connected && (
        <p class="notice" data-testid="offline-notice">
          Central is unreachable. These alerts were raised on this gateway and are queued in the alert lane;
          they go first when the link is back.
        </p>
      )}
      <ErrorBanner error={list.error} />
      {list.data && <AlertTable alerts={list.data.alerts} />}
    </section>
  );
}
