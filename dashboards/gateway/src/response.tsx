/**
 * Response on this gateway (gateway/http/response-routes.ts): the playbooks central pushed, which
 * run on this gateway's own alerts even while the link is down, and what they block here now
 * (MQTT client ids and addresses, Modbus masters, proxies switched to enforce), with when each
 * block ends. An admin can lift one at the plant; central is told when the link is back.
 */
import { api } from '../../shared/api.ts';
import { ago, dateTime } from '../../shared/format.ts';
import { useSession } from '../../shared/session.tsx';
import { DataTable, ErrorBanner, useAction, useApi } from '../../shared/ui.tsx';

interface Entry {
  id: string;
  type: string;
  source?: string;
  value?: string;
  created_at: string;
  expires_at: string | null;
  by: string;
}
interface ResponseState {
  playbooks_version: string | null;
  playbooks: Array<{ id: string; actions: Array<{ type: string }> }>;
  entries: Entry[];
}

const WHAT: Record<string, string> = {
  mqtt_block_client: 'MQTT client id refused',
  mqtt_block_address: 'MQTT address refused',
  modbus_deny_master: 'Modbus master denied',
  modbus_enforce: 'Modbus proxy enforcing its policy',
};

export function ResponsePage() {
  const { can } = useSession();
  const state = useApi<ResponseState>('/api/response', 10_000);
  const { error, run } = useAction(state.reload);
  const lift = (e: Entry) =>
    run(() => api(`/api/response/${encodeURIComponent(e.id)}`, { method: 'DELETE' }));
  const data = state.data;
  return (
    <section>
      <h1>Response</h1>
      <ErrorBanner error={error ?? state.error} />
      <div class="card table-wrap">
        <h2>Blocked here now</h2>
        <DataTable
          class="response-entries"
          head={['What', 'Whom', 'Source', 'Since', 'Until', 'By', '']}
          rows={data?.entries}
          empty="Nothing is blocked."
          row={(e) => (
            <tr key={e.id} data-entry={e.id}>
              <td>{WHAT[e.type] ?? e.type}</td>
              <td class="mono">{e.value ?? '—'}</td>
              <td>{e.source ?? 'every source'}</td>
              <td title={dateTime(e.created_at)}>{ago(e.created_at)}</td>
              <td>{e.expires_at ? dateTime(e.expires_at) : 'until lifted'}</td>
              <td class="mono">{e.by}</td>
              <td>
                {can('admin') && (
                  <button onClick={() => void lift(e)} title="lift this block now; central is told">
                    Lift
                  </button>
                )}
              </td>
            </tr>
          )}
        />
      </div>
      <div class="card">
        <h2>Playbooks from central</h2>
        {data && data.playbooks.length === 0 ? (
          <p class="muted">Central has pushed no playbook to this gateway.</p>
        ) : (
          <ul class="response-playbooks">
            {data?.playbooks.map((p) => (
              <li key={p.id}>
                <span class="mono">{p.id}</span>: {p.actions.map((a) => WHAT[a.type] ?? a.type).join(', ')}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
