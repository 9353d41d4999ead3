/**
 * The gateway fleet (`GET /api/fleet`): connection, software version, delivery lag, queue depth by
 * lane (from the gateway's last link heartbeat), event rate (live from the stream), clock offset;
 * the rule set each gateway was assigned next to the one it reports running, and its last refusal
 * (`GET /api/gateways`, link SPEC §8); enrollment tokens (`POST /api/enrollment-tokens`, the
 * token shown once) and revocation (`POST /api/gateways/:id/revoke`), both admin-only on the
 * server. Connects and disconnects arrive as `gateway` stream events and reload the list.
 */
import { useState } from 'preact/hooks';
import { api } from '../../../shared/api.ts';
import { ago, dateTime, duration, rate } from '../../../shared/format.ts';
import { useSession } from '../../../shared/session.tsx';
import { useStream } from '../../../shared/stream.ts';
import { ErrorBanner, Pill, useApi } from '../../../shared/ui.tsx';
import type { FleetGateway, GatewayRules, GatewayRulesState, LiveStats, QueueReport } from '../types.ts';

/** A rule-set version (`sha256:<hex>`) short enough for a table cell. */
const short = (v: string | null) => (v ? v.replace(/^sha256:/, '').slice(0, 10) : '—');

function QueueCell({ queue }: { queue: QueueReport | null }) {
  if (!queue) return <span class="muted">—</span>;
  const { alert, security, telemetry } = queue.by_lane;
  return (
    <span title={`as of ${dateTime(queue.reported_at)}`} data-testid="queue-depth">
      {queue.events.toLocaleString()}
      <div class="muted">
        alert {alert} · security {security} · telemetry {telemetry}
      </div>
    </span>
  );
}

function RulesCell({ rules }: { rules: GatewayRulesState | null | undefined }) {
  if (!rules || (!rules.assigned_version && !rules.running_version && !rules.last_error))
    return <span class="muted">its own rules</span>;
  const behind = rules.assigned_version !== null && rules.assigned_version !== rules.running_version;
  return (
    <div data-testid="gateway-rules">
      <div>
        running{' '}
        <span class="mono" data-running-version={rules.running_version ?? ''}>
          {short(rules.running_version)}
        </span>
        {behind ? (
          <>
            {' '}
            <Pill tone="warn">assigned {short(rules.assigned_version)}</Pill>
          </>
        ) : rules.assigned_version ? (
          <>
            {' '}
            <Pill tone="ok">as assigned</Pill>
          </>
        ) : null}
      </div>
      {rules.last_error && (
        <div class="error" title={dateTime(rules.last_error_at)}>
          refused {ago(rules.last_error_at)}: {rules.last_error}
        </div>
      )}
    </div>
  );
}

export function GatewaysPage() {
  const { can } = useSession();
  const fleet = useApi<{ gateways: FleetGateway[]; lagging_ms: number }>('/api/fleet', 15_000);
  const [rates, setRates] = useState<Record<string, number>>({});
  const [error, setError] = useState<Error | undefined>(undefined);
  const [gatewayId, setGatewayId] = useState('');
  const [ttl, setTtl] = useState('3600');
  const [token, setToken] = useState<{ token: string; gateway_id: string | null; expires_at: string } | null>(
    null,
  );
  useStream<LiveStats>('stats', (s) => setRates(s.gateways));
  const ruleStates = useApi<{ gateways: GatewayRules[] }>('/api/gateways', 15_000);
  const rulesOf = new Map((ruleStates.data?.gateways ?? []).map((g) => [g.id, g.rules]));
  useStream('gateway', () => {
    fleet.reload();
    ruleStates.reload();
  });

  const createToken = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      setToken(
        await api('/api/enrollment-tokens', {
          method: 'POST',
          body: { ...(gatewayId && { gateway_id: gatewayId }), ttl_secs: Number(ttl) },
        }),
      );
    } catch (err) {
      setError(err as Error);
    }
  };
  const revoke = async (id: string) => {
    if (!confirm(`Revoke gateway ${id}? Its connection is closed and refused from now on.`)) return;
    setError(undefined);
    try {
      await api(`/api/gateways/${encodeURIComponent(id)}/revoke`, { method: 'POST' });
      fleet.reload();
    } catch (err) {
      setError(err as Error);
    }
  };
  const admin = can('admin');

  return (
    <section>
      <div class="actions" style={{ justifyContent: 'space-between' }}>
        <h1>Gateways</h1>
        <button
          onClick={() => {
            fleet.reload();
            ruleStates.reload();
          }}
        >
          Refresh
        </button>
      </div>
      <ErrorBanner error={fleet.error ?? ruleStates.error ?? error} />
      <div class="card table-wrap">
        <table>
          <thead>
            <tr>
              <th>Gateway</th>
              <th>Link</th>
              <th>Software</th>
              <th class="num">Events/s</th>
              <th class="num">Delivery lag</th>
              <th class="num">Queued</th>
              <th>Rule set</th>
              <th class="num">Clock offset</th>
              <th>Last seen</th>
              <th>Enrolled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {fleet.data?.gateways.map((g) => (
              <tr key={g.id} data-gateway={g.id}>
                <td>
                  <strong>{g.id}</strong>
                  {g.remote && <div class="muted">{g.remote}</div>}
                </td>
                <td>
                  {g.status === 'revoked' ? (
                    <Pill tone="muted">revoked</Pill>
                  ) : g.connected ? (
                    g.lagging ? (
                      <Pill tone="warn">lagging</Pill>
                    ) : (
                      <Pill tone="ok">online</Pill>
                    )
                  ) : (
                    <Pill tone="bad">offline</Pill>
                  )}
                  {g.connected_since && <div class="muted">since {ago(g.connected_since)}</div>}
                </td>
                <td class="mono">{g.software ?? '—'}</td>
                <td class="num">{rate(rates[g.id] ?? g.events_per_sec)}</td>
                <td class="num">{g.lag_ms === null ? '—' : duration(g.lag_ms)}</td>
                <td class="num">
                  <QueueCell queue={g.queue} />
                </td>
                <td>
                  <RulesCell rules={rulesOf.get(g.id)} />
                </td>
                <td class="num">{g.clock_offset_ms === null ? '—' : duration(Number(g.clock_offset_ms))}</td>
                <td title={dateTime(g.last_seen_at)}>{ago(g.last_seen_at)}</td>
                <td>{dateTime(g.enrolled_at)}</td>
                <td>
                  {g.status === 'active' && (
                    <button class="danger" disabled={!admin} onClick={() => void revoke(g.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {fleet.data?.gateways.length === 0 && <p class="muted">No gateway enrolled yet.</p>}
        <p class="muted">
          Delivery lag: how long the newest events took from the gateway to central (a gateway catching up
          after an outage lags). Queued: events waiting on the gateway, by lane, as of its last heartbeat.
        </p>
      </div>
      <div class="card">
        <h2>Enroll a gateway</h2>
        <form class="filters" onSubmit={createToken}>
          <label>
            Gateway id (optional: binds the token)
            <input name="gateway_id" value={gatewayId} onInput={(e) => setGatewayId(e.currentTarget.value)} />
          </label>
          <label>
            Valid for (s)
            <input
              name="ttl_secs"
              type="number"
              min={60}
              value={ttl}
              onInput={(e) => setTtl(e.currentTarget.value)}
            />
          </label>
          <button type="submit" class="primary" disabled={!admin}>
            Create enrollment token
          </button>
        </form>
        {token && (
          <div class="notice" data-testid="enrollment-token">
            <p>
              One-time token{token.gateway_id ? ` for ${token.gateway_id}` : ''}, valid until{' '}
              {dateTime(token.expires_at)}. It is shown once:
            </p>
            <pre>{token.token}</pre>
            <p class="mono">
              siem-gateway enroll --central {location.origin} --token {token.token}
            </p>
          </div>
        )}
      </div>
    </section>
  );
}
