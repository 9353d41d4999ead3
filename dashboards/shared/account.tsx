/**
 * "My account", the same on both dashboards (server-shared/web-auth/SPEC.md §2): change one's own
 * password (`POST /api/auth/password {current, new}`; the server ends one's other sessions),
 * set up TOTP when it is not on yet, and one's API tokens for automation: create one with scopes
 * (at most one's own permissions; the value is shown once, the server keeps only its SHA-256),
 * list them with their last use, revoke one (`GET/POST/DELETE /api/auth/tokens`).
 */
import { useState } from 'preact/hooks';
import type { ApiToken, CreatedApiToken, Permission, TokensResponse } from '../../protocols/api/auth.ts';
import { api } from './api.ts';
import { ago, dateTime } from './format.ts';
import { useSession } from './session.tsx';
import { TotpEnrolment } from './totp.tsx';
import { DataTable, ErrorBanner, Field, useAction, useApi } from './ui.tsx';

const MIN_PASSWORD = 10;

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<Error | undefined>(undefined);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setDone(false);
    if (next !== again) return setError(new Error('the two new passwords differ'));
    try {
      await api('/api/auth/password', { method: 'POST', body: { current, new: next } });
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <form class="card" aria-label="change password" onSubmit={submit}>
      <h2>Change password</h2>
      <Field
        label="Current password"
        name="current-password"
        type="password"
        autocomplete="current-password"
        required
        value={current}
        onValue={setCurrent}
      />
      <Field
        label={`New password (at least ${MIN_PASSWORD} characters)`}
        name="new-password"
        type="password"
        autocomplete="new-password"
        minLength={MIN_PASSWORD}
        required
        value={next}
        onValue={setNext}
      />
      <Field
        label="New password again"
        name="new-password-again"
        type="password"
        autocomplete="new-password"
        required
        value={again}
        onValue={setAgain}
      />
      <ErrorBanner error={error} />
      {done && <p class="notice">Password changed; your other sessions were logged out.</p>}
      <button type="submit" class="primary">
        Change password
      </button>
    </form>
  );
}

function TokensCard() {
  const { session } = useSession();
  const tokens = useApi<TokensResponse>('/api/auth/tokens');
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Permission[]>(['read']);
  const [days, setDays] = useState('90');
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const { error, run } = useAction(tokens.reload);

  const create = (e: Event) => {
    e.preventDefault();
    const d = Number(days);
    return run(async () => {
      setCreated(
        await api('/api/auth/tokens', {
          method: 'POST',
          body: { name, scopes, ...(d > 0 && { expires_in_secs: Math.round(d * 86_400) }) },
        }),
      );
      setName('');
    });
  };
  const revoke = (t: ApiToken) => {
    if (!confirm(`Revoke token "${t.name}"? Scripts using it stop working.`)) return;
    return run(async () => {
      await api(`/api/auth/tokens/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
      if (created?.id === t.id) setCreated(null);
    });
  };
  return (
    <div class="card table-wrap">
      <h2>API tokens</h2>
      <p class="muted">
        For scripts: <span class="mono">Authorization: Bearer &lt;token&gt;</span>. A token never does more
        than your role allows.
      </p>
      <ErrorBanner error={tokens.error ?? error} />
      {created && (
        <div class="notice" data-testid="new-token">
          <p>
            Token "{created.name}" ({created.scopes.join(', ')}). Copy it now: it is shown once.
          </p>
          <pre class="mono">{created.token}</pre>
        </div>
      )}
      <DataTable
        class="tokens"
        head={['Name', 'Scopes', 'Created', 'Expires', 'Last used', '']}
        rows={tokens.data?.tokens}
        empty="No token yet."
        row={(t) => (
          <tr key={t.id} data-token={t.name}>
            <td>
              {t.name}
              {t.username !== session.user.username && <div class="muted">{t.username}</div>}
            </td>
            <td>{t.scopes.join(', ')}</td>
            <td>{dateTime(t.created_at)}</td>
            <td>{t.expires_at ? dateTime(t.expires_at) : 'never'}</td>
            <td>{t.last_used_at ? ago(t.last_used_at) : 'never'}</td>
            <td>
              <button class="danger" onClick={() => void revoke(t)}>
                Revoke
              </button>
            </td>
          </tr>
        )}
      />
      <form class="filters" aria-label="create token" onSubmit={create}>
        <Field label="Name" name="token-name" required maxLength={64} value={name} onValue={setName} />
        <fieldset class="scopes">
          <legend>Scopes</legend>
          {session.permissions.map((p) => (
            <label key={p} class="check">
              <input
                type="checkbox"
                name="scope"
                value={p}
                checked={scopes.includes(p)}
                onChange={(e) =>
                  setScopes(e.currentTarget.checked ? [...scopes, p] : scopes.filter((s) => s !== p))
                }
              />{' '}
              {p}
            </label>
          ))}
        </fieldset>
        <Field
          label="Valid for (days, 0 = no expiry)"
          name="token-days"
          type="number"
          min={0}
          value={days}
          onValue={setDays}
        />
        <button type="submit" class="primary" disabled={scopes.length === 0 || !name.trim()}>
          Create token
        </button>
      </form>
    </div>
  );
}

export function AccountPage() {
  const { session, refresh } = useSession();
  const [enrolling, setEnrolling] = useState(false);
  return (
    <section>
      <h1>My account</h1>
      <p>
        <strong>{session.user.username}</strong> <span class="muted">({session.user.role})</span> · two-factor{' '}
        <span data-testid="totp-state">{session.user.totp_enabled ? 'on' : 'off'}</span>
      </p>
      <div class="grid">
        <PasswordForm />
        {!session.user.totp_enabled && (
          <div class="card">
            <h2>Two-factor authentication</h2>
            {enrolling ? (
              <TotpEnrolment
                onEnabled={() => {
                  setEnrolling(false);
                  void refresh();
                }}
              />
            ) : (
              <button onClick={() => setEnrolling(true)}>Set up an authenticator app</button>
            )}
          </div>
        )}
      </div>
      <TokensCard />
    </section>
  );
}
