/**
 * Users and the audit log (admin; server-shared/web-auth/SPEC.md §2–§3): list users, create one
 * (role, initial password, TOTP required), change a role, require TOTP, disable, reset the
 * password or TOTP, delete; the audit log with actor and action filters, paged backwards.
 */
import { useState } from 'preact/hooks';
import { api, withQuery } from '../../../shared/api.ts';
import { dateTime } from '../../../shared/format.ts';
import { setQuery, type Route } from '../../../shared/router.ts';
import { useSession } from '../../../shared/session.tsx';
import { DataTable, ErrorBanner, Pill, useAction, useApi } from '../../../shared/ui.tsx';
import type { AuditEntry, User } from '../types.ts';

const ROLES = ['viewer', 'analyst', 'admin'];

export function UsersPage() {
  const { session } = useSession();
  const users = useApi<{ users: User[] }>('/api/users');
  const { error, run } = useAction(users.reload);
  const [form, setForm] = useState({ username: '', password: '', role: 'viewer', require_totp: false });
  const patch = (u: string, body: Record<string, unknown>) =>
    run(() => api(`/api/users/${encodeURIComponent(u)}`, { method: 'PATCH', body }));

  return (
    <section>
      <h1>Users</h1>
      <ErrorBanner error={users.error ?? error} />
      <div class="card table-wrap">
        <DataTable
          head={['User', 'Role', 'TOTP', 'State', 'Created', '']}
          rows={users.data?.users}
          row={(u) => (
            <tr key={u.username} data-user={u.username}>
              <td>
                <strong>{u.username}</strong>
                {u.username === session.user.username && <span class="muted"> (you)</span>}
              </td>
              <td>
                <select
                  aria-label={`role of ${u.username}`}
                  value={u.role}
                  onChange={(e) => void patch(u.username, { role: e.currentTarget.value })}
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </td>
              <td>
                {u.totp_enabled ? <Pill tone="ok">enabled</Pill> : <Pill tone="muted">off</Pill>}{' '}
                <label style={{ display: 'inline-flex', flexDirection: 'row', gap: '0.3rem' }}>
                  <input
                    type="checkbox"
                    checked={u.require_totp}
                    onChange={(e) => void patch(u.username, { require_totp: e.currentTarget.checked })}
                  />
                  required
                </label>
              </td>
              <td>{u.disabled ? <Pill tone="bad">disabled</Pill> : <Pill tone="ok">active</Pill>}</td>
              <td>{dateTime(u.created_at)}</td>
              <td class="actions">
                <button onClick={() => void patch(u.username, { disabled: !u.disabled })}>
                  {u.disabled ? 'Enable' : 'Disable'}
                </button>
                {u.totp_enabled && (
                  <button onClick={() => void patch(u.username, { reset_totp: true })}>Reset TOTP</button>
                )}
                <button
                  onClick={() => {
                    const password = prompt(`New password for ${u.username} (at least 10 characters)`);
                    if (password) void patch(u.username, { password });
                  }}
                >
                  Set password
                </button>
                <button
                  class="danger"
                  onClick={() => {
                    if (confirm(`Delete user ${u.username}?`))
                      void run(() =>
                        api(`/api/users/${encodeURIComponent(u.username)}`, { method: 'DELETE' }),
                      );
                  }}
                >
                  Delete
                </button>
              </td>
            </tr>
          )}
        />
      </div>
      <div class="card">
        <h2>New user</h2>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await api('/api/users', { method: 'POST', body: form });
              setForm({ username: '', password: '', role: 'viewer', require_totp: false });
            });
          }}
        >
          <label>
            Username
            <input
              name="new-username"
              value={form.username}
              required
              onInput={(e) => setForm({ ...form, username: e.currentTarget.value })}
            />
          </label>
          <label>
            Initial password
            <input
              name="new-password"
              type="password"
              autocomplete="new-password"
              minLength={10}
              required
              value={form.password}
              onInput={(e) => setForm({ ...form, password: e.currentTarget.value })}
            />
          </label>
          <label>
            Role
            <select
              name="new-role"
              value={form.role}
              onChange={(e) => setForm({ ...form, role: e.currentTarget.value })}
            >
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label style={{ flexDirection: 'row', alignItems: 'center', gap: '0.3rem' }}>
            <input
              type="checkbox"
              checked={form.require_totp}
              onChange={(e) => setForm({ ...form, require_totp: e.currentTarget.checked })}
            />
            require TOTP
          </label>
          <button type="submit" class="primary">
            Create user
          </button>
        </form>
      </div>
    </section>
  );
}

export function AuditPage({ route }: { route: Route }) {
  const actor = route.query.get('actor') ?? undefined;
  const action = route.query.get('action') ?? undefined;
  const before = route.query.get('before') ?? undefined;
  const audit = useApi<{ entries: AuditEntry[]; next_before: number | null }>(
    withQuery('/api/audit', { actor, action, before, limit: 100 }),
  );
  const [draft, setDraft] = useState({ actor, action });
  return (
    <section>
      <h1>Audit log</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ actor: draft.actor || undefined, action: draft.action || undefined });
        }}
      >
        <label>
          Actor
          <input
            name="actor"
            value={draft.actor ?? ''}
            onInput={(e) => setDraft({ ...draft, actor: e.currentTarget.value })}
          />
        </label>
        <label>
          Action
          <input
            name="action"
            value={draft.action ?? ''}
            onInput={(e) => setDraft({ ...draft, action: e.currentTarget.value })}
          />
        </label>
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      <ErrorBanner error={audit.error} />
      <div class="card table-wrap">
        <DataTable
          head={['When', 'Who', 'What', 'Target', 'From', 'Outcome']}
          rows={audit.data?.entries}
          row={(e) => (
            <tr key={e.id}>
              <td class="mono">{dateTime(e.ts)}</td>
              <td>{e.actor}</td>
              <td class="mono">{e.action}</td>
              <td class="mono ellipsis" title={e.target ?? ''}>
                {e.target ?? '—'}
              </td>
              <td>{e.address ?? '—'}</td>
              <td>
                <Pill
                  tone={
                    e.outcome === 'ok' || /^2/.test(e.outcome)
                      ? 'ok'
                      : e.outcome === 'denied'
                        ? 'bad'
                        : 'warn'
                  }
                >
                  {e.outcome}
                </Pill>
              </td>
            </tr>
          )}
        />
        {audit.data?.next_before && (
          <button onClick={() => setQuery({ actor, action, before: String(audit.data!.next_before) })}>
            Older
          </button>
        )}
      </div>
    </section>
  );
}
