/**
 * Response playbooks (central/api/playbooks.ts): the runs waiting for an analyst's approval
 * (approve or reject), the latest runs with each action, its target, outcome and error (undo what
 * changed something), the playbooks themselves (edited as JSON, the format of
 * protocols/playbook/schema.ts; admins only) and the set each gateway runs. The server enforces
 * the permissions (`playbooks` to edit, `alerts` to approve, reject and undo, `admin` to undo a
 * disabled user or token); this page only hides
 * what the user may not do.
 */
import { useState } from 'preact/hooks';
import { api } from '../../../shared/api.ts';
import { ago, dateTime } from '../../../shared/format.ts';
import { useSession } from '../../../shared/session.tsx';
import { DataTable, ErrorBanner, Pill, useApi } from '../../../shared/ui.tsx';

interface Playbook {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  approval: boolean;
  match: Record<string, unknown>;
  actions: Array<Record<string, unknown> & { type: string }>;
  updated_at: string;
  updated_by: string;
}
interface RunAction {
  id: number;
  type: string;
  params: Record<string, unknown>;
  gateway: string | null;
  status: string;
  error: string | null;
  executed_at: string | null;
  undone_by: string | null;
}
interface Run {
  id: number;
  playbook_id: string;
  playbook_name: string;
  trigger: 'central' | 'gateway';
  alert_id: number | null;
  gateway: string | null;
  rule_id: string | null;
  status: string;
  decided_by: string | null;
  reason: string | null;
  created_at: string;
  actions: RunAction[];
}
interface GatewayState {
  gateway: string;
  assigned_version: string;
  running_version: string | null;
  ok: boolean | null;
  error: string | null;
}

/** Undoing these gives an account its access back: admins only (central/api/playbooks.ts). */
const ACCOUNT_ACTIONS = new Set(['disable_user', 'disable_token']);
const TEMPLATE = {
  id: 'block-mqtt-brute-force',
  name: 'Block MQTT brute-forcers at the edge',
  description: '',
  enabled: true,
  approval: false,
  match: { techniques: ['T0812'], min_severity: 3 },
  actions: [{ type: 'mqtt_block_address', expire_secs: 3600 }],
};

const TONE: Record<string, 'ok' | 'warn' | 'bad' | 'muted'> = {
  succeeded: 'ok',
  done: 'ok',
  undone: 'muted',
  edge: 'muted',
  skipped: 'muted',
  rejected: 'muted',
  pending: 'warn',
  queued: 'warn',
  sent: 'warn',
  undoing: 'warn',
  running: 'warn',
  failed: 'bad',
  undo_failed: 'bad',
};

const target = (a: RunAction) =>
  [a.params.value, a.params.username, a.params.token_id, a.params.sink].find((v) => typeof v === 'string') ??
  '';

const typeName = (a: { type: string }) => a.type.replaceAll('_', ' ');

function summary(p: Playbook): string {
  const m = p.match as Record<string, unknown[] | number | undefined>;
  const parts = Object.entries(m)
    .filter(([, v]) => v !== undefined && (!Array.isArray(v) || v.length > 0))
    .map(([k, v]) => `${k.replace('_', ' ')}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  return parts.length > 0 ? parts.join('; ') : 'every alert';
}

function AlertLink({ id }: { id: number }) {
  return <a href={`#/alerts/${id}`}>alert {id}</a>;
}

/** One action of a run: its outcome, what it did to whom, and Undo where it changed something. */
function RunActionItem({ action: a, onUndo }: { action: RunAction; onUndo: () => void }) {
  const { can } = useSession();
  const account = ACCOUNT_ACTIONS.has(a.type);
  return (
    <li data-action={a.id} data-status={a.status}>
      <Pill tone={TONE[a.status] ?? 'muted'}>{a.status.replace('_', ' ')}</Pill> {typeName(a)}{' '}
      <span class="mono">{target(a)}</span>
      {a.gateway && <span class="muted"> on {a.gateway}</span>}
      {a.error && <span class="error-text"> — {a.error}</span>}
      {a.undone_by && <span class="muted"> (undone by {a.undone_by})</span>}
      {(a.status === 'succeeded' || a.status === 'undo_failed') && a.type !== 'webhook' && (
        <button
          disabled={!can(account ? 'admin' : 'alerts')}
          title={account ? 'gives the account its access back: admins only' : undefined}
          onClick={onUndo}
        >
          Undo
        </button>
      )}
    </li>
  );
}

export function PlaybooksPage() {
  const { can } = useSession();
  const playbooks = useApi<{ playbooks: Playbook[] }>('/api/playbooks');
  const pending = useApi<{ runs: Run[] }>('/api/playbook-runs?status=pending&limit=100', 10_000);
  const runs = useApi<{ runs: Run[] }>('/api/playbook-runs?limit=50', 10_000);
  const fleet = useApi<{ gateways: GatewayState[] }>('/api/playbook-gateways', 30_000);
  const [editing, setEditing] = useState<{ text: string; create: boolean } | null>(null);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [notice, setNotice] = useState('');

  const act = async (fn: () => Promise<string>) => {
    setError(undefined);
    setNotice('');
    try {
      setNotice(await fn());
      playbooks.reload();
      pending.reload();
      runs.reload();
      fleet.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const save = () =>
    act(async () => {
      const body = JSON.parse(editing!.text) as Playbook;
      await api(editing!.create ? '/api/playbooks' : `/api/playbooks/${encodeURIComponent(body.id)}`, {
        method: editing!.create ? 'POST' : 'PUT',
        body,
      });
      setEditing(null);
      return `playbook ${body.id} saved and pushed to the gateways`;
    });
  const decide = (run: Run, how: 'approve' | 'reject') =>
    act(async () => {
      await api(`/api/playbook-runs/${run.id}/${how}`, { method: 'POST', body: {} });
      return `run ${run.id} ${how === 'approve' ? 'approved' : 'rejected'}`;
    });
  const undo = (a: RunAction) =>
    act(async () => {
      await api(`/api/playbook-actions/${a.id}/undo`, { method: 'POST' });
      return `undo of ${typeName(a)} ${target(a)} requested`;
    });

  return (
    <section>
      <h1>Response playbooks</h1>
      <ErrorBanner error={error ?? playbooks.error ?? runs.error} />
      {notice && <p class="notice">{notice}</p>}

      <div class="card table-wrap">
        <h2>Waiting for approval</h2>
        <DataTable
          class="pending-runs"
          rows={pending.data?.runs}
          empty="Nothing waits for approval."
          row={(r) => (
            <tr key={r.id} data-run={r.id}>
              <td>{r.playbook_name}</td>
              <td>{r.alert_id !== null ? <AlertLink id={r.alert_id} /> : r.gateway}</td>
              <td>{r.actions.map((a) => `${typeName(a)} ${target(a)}`).join(', ')}</td>
              <td>{ago(r.created_at)}</td>
              <td class="actions">
                <button class="primary" disabled={!can('alerts')} onClick={() => void decide(r, 'approve')}>
                  Approve
                </button>
                <button disabled={!can('alerts')} onClick={() => void decide(r, 'reject')}>
                  Reject
                </button>
              </td>
            </tr>
          )}
        />
      </div>

      <div class="card table-wrap">
        <h2>Runs</h2>
        <DataTable
          class="playbook-runs"
          head={['When', 'Playbook', 'Trigger', 'Status', 'Actions and outcome']}
          rows={runs.data?.runs}
          row={(r) => (
            <tr key={r.id} data-run={r.id}>
              <td title={dateTime(r.created_at)}>{ago(r.created_at)}</td>
              <td>{r.playbook_name}</td>
              <td>
                {r.trigger === 'gateway' ? `gateway ${r.gateway}` : 'central'}
                {r.alert_id !== null && (
                  <>
                    {' '}
                    <AlertLink id={r.alert_id} />
                  </>
                )}
                {r.decided_by && <div class="muted">by {r.decided_by}</div>}
              </td>
              <td>
                <Pill tone={TONE[r.status] ?? 'muted'}>{r.status}</Pill>
              </td>
              <td>
                <ul class="run-actions">
                  {r.actions.map((a) => (
                    <RunActionItem key={a.id} action={a} onUndo={() => void undo(a)} />
                  ))}
                </ul>
              </td>
            </tr>
          )}
        />
      </div>

      <div class="card table-wrap">
        <h2>Playbooks</h2>
        <DataTable
          class="playbooks"
          head={['Name', 'When', 'Do', 'Approval', '']}
          rows={playbooks.data?.playbooks}
          row={(p) => (
            <tr key={p.id} data-playbook={p.id} class={p.enabled ? '' : 'muted'}>
              <td>
                {p.name}
                <div class="mono muted">{p.id}</div>
              </td>
              <td>{summary(p)}</td>
              <td>{p.actions.map(typeName).join(', ')}</td>
              <td>{p.approval ? 'analyst approves' : 'at once'}</td>
              <td class="actions">
                {can('playbooks') && (
                  <>
                    <button
                      onClick={() => {
                        const { id, name, description, enabled, approval, match, actions } = p;
                        const body = { id, name, description, enabled, approval, match, actions };
                        setEditing({ text: JSON.stringify(body, null, 2), create: false });
                      }}
                    >
                      Edit
                    </button>
                    <button
                      onClick={() =>
                        void act(async () => {
                          if (!confirm(`Delete playbook ${p.id}? Its runs stay.`)) return 'kept';
                          await api(`/api/playbooks/${encodeURIComponent(p.id)}`, { method: 'DELETE' });
                          return `playbook ${p.id} deleted`;
                        })
                      }
                    >
                      Delete
                    </button>
                  </>
                )}
              </td>
            </tr>
          )}
        />
        {can('playbooks') && !editing && (
          <div class="actions">
            <button onClick={() => setEditing({ text: JSON.stringify(TEMPLATE, null, 2), create: true })}>
              New playbook
            </button>
          </div>
        )}
        {editing && (
          <form
            class="playbook-editor"
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <label>
              Playbook (JSON: match rule_ids, min_severity, techniques, gateways, sites; actions webhook, mqtt
              block client/address, modbus deny master/enforce, disable user/token, open incident)
              <textarea
                name="playbook"
                rows={16}
                class="mono"
                value={editing.text}
                onInput={(e) => setEditing({ ...editing, text: e.currentTarget.value })}
              />
            </label>
            <div class="actions">
              <button type="submit" class="primary">
                Save
              </button>
              <button type="button" onClick={() => setEditing(null)}>
                Cancel
              </button>
            </div>
          </form>
        )}
      </div>

      <div class="card table-wrap">
        <h2>Gateways</h2>
        <DataTable
          rows={fleet.data?.gateways}
          row={(g) => (
            <tr key={g.gateway}>
              <td class="mono">{g.gateway}</td>
              <td>
                {g.running_version === g.assigned_version ? (
                  <Pill tone="ok">runs its set</Pill>
                ) : (
                  <Pill tone="warn">set not applied yet</Pill>
                )}
              </td>
              <td class="muted">{g.error}</td>
            </tr>
          )}
        />
      </div>
    </section>
  );
}
