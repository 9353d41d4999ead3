/**
 * Who is logged in, for both dashboards: `SessionGate` asks `GET /api/auth/me` and renders the
 * login form (username, password, then a TOTP code when the server answers `totp_required`) or
 * its children with the session in context; any later 401 returns to the form
 * (server-shared/web-auth/SPEC.md §2). A user who must enrol TOTP first (`totp_enrollment_required`:
 * the server limits such a session to /api/auth/*) gets the enrolment screen instead, and the
 * dashboard once it is enabled. `can(permission)` only hides controls: the server enforces.
 */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import type { Permission, Session } from '../../protocols/api/auth.ts';
import { api, ApiError, onUnauthorized, setCsrfToken } from './api.ts';
import { TOTP_CODE, TotpEnrolment } from './totp.tsx';
import { Field } from './ui.tsx';

// The session's shapes are the contract's (protocols/api/auth.ts), imported as types only.
export type { Permission, Session, SessionUser } from '../../protocols/api/auth.ts';

export interface SessionContextValue {
  session: Session;
  can: (permission: Permission) => boolean;
  logout: () => Promise<void>;
  /** Asks `/api/auth/me` again (after enabling TOTP, changing the password). */
  refresh: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionGate');
  return value;
}

export function LoginForm({ title, onLogin }: { title: string; onLogin: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const body: Record<string, string> = { username, password };
      if (needTotp && totp) body.totp = totp.trim();
      const s = await api<Session>('/api/auth/login', { method: 'POST', body, quiet401: true });
      setCsrfToken(s.csrf_token ?? '');
      onLogin(s);
    } catch (err) {
      if (err instanceof ApiError && err.body.totp_required === true) {
        if (needTotp && totp) setError('invalid or expired code');
        setNeedTotp(true);
      } else if (err instanceof ApiError && err.status === 429) {
        setError('too many attempts: try again later');
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit} aria-label="log in">
        <h1>{title}</h1>
        <Field
          label="Username"
          name="username"
          autocomplete="username"
          required
          value={username}
          onValue={setUsername}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
        {needTotp && (
          <Field
            label="Authenticator code"
            name="totp"
            {...TOTP_CODE}
            required
            autoFocus
            value={totp}
            onValue={setTotp}
          />
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {needTotp ? 'Verify' : 'Log in'}
        </button>
      </form>
    </main>
  );
}

/** Renders children once logged in; the login form otherwise. */
export function SessionGate({ title, children }: { title: string; children: ComponentChildren }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  const refresh = useCallback(
    () =>
      api<Session>('/api/auth/me', { quiet401: true })
        .then((s) => {
          setCsrfToken(s.csrf_token ?? '');
          setSession(s);
        })
        .catch(() => setSession(null)),
    [],
  );
  useEffect(() => {
    void refresh();
    return onUnauthorized(() => setSession(null));
  }, [refresh]);

  const can = useCallback((p: Permission) => session?.permissions.includes(p) ?? false, [session]);
  const logout = useCallback(async () => {
    try {
      await api('/api/auth/logout', { method: 'POST', quiet401: true });
    } finally {
      setCsrfToken('');
      setSession(null);
    }
  }, []);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <LoginForm title={title} onLogin={setSession} />;
  if (session.totp_enrollment_required) {
    return (
      <main class="login">
        <div class="card login-card">
          <h1>{title}</h1>
          <p>
            <strong>{session.user.username}</strong>, two-factor authentication is required for your account.
            Add it to an authenticator app to continue.
          </p>
          <TotpEnrolment onEnabled={() => void refresh()} />
          <button onClick={() => void logout()}>Log out</button>
        </div>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={{ session, can, logout, refresh }}>{children}</SessionContext.Provider>
  );
}
