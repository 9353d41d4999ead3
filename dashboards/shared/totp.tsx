/**
 * TOTP enrolment (RFC 6238; server-shared/web-auth/SPEC.md §2): `POST /api/auth/totp/setup` gives a
 * new secret and its `otpauth://` URL, shown as text to type or paste into an authenticator app
 * (the URL opens one on a phone or tablet; no QR code, so no image library in the page); the
 * user proves it works with a 6-digit code, `POST /api/auth/totp/enable {code}`, and only then is
 * it active. Used by the session gate when an admin requires TOTP and by the account page.
 */
import { useEffect, useState } from 'preact/hooks';
import type { TotpSetup } from '../../protocols/api/auth.ts';
import { api } from './api.ts';
import { Field } from './ui.tsx';

/** What makes an input a six-digit authenticator code (RFC 6238 codes; the phone's digit pad). */
export const TOTP_CODE = {
  inputMode: 'numeric',
  autocomplete: 'one-time-code',
  pattern: '[0-9]{6}',
} as const;

/** Base32 in groups of four, easier to type. */
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');

export function TotpEnrolment({ onEnabled }: { onEnabled: () => void }) {
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const start = async () => {
    setError('');
    try {
      setSetup(await api<TotpSetup>('/api/auth/totp/setup', { method: 'POST', body: {} }));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void start();
  }, []);

  const enable = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api('/api/auth/totp/enable', { method: 'POST', body: { code: code.trim() } });
      onEnabled();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="totp-enrol" aria-label="enrol TOTP" onSubmit={enable}>
      {setup ? (
        <>
          <p>
            In your authenticator app, add an account with this key (time-based, 6 digits, 30 s), or open the
            link on the device that runs the app:
          </p>
          <p class="mono secret" data-testid="totp-secret" data-secret={setup.secret}>
            {grouped(setup.secret)}
          </p>
          <p class="mono muted" style={{ wordBreak: 'break-all' }}>
            <a href={setup.otpauth_url} data-testid="otpauth-url">
              {setup.otpauth_url}
            </a>
          </p>
          <Field
            label="Code from the app"
            name="totp-code"
            {...TOTP_CODE}
            required
            value={code}
            onValue={setCode}
          />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Enable two-factor
            </button>
            <button type="button" onClick={() => void start()}>
              New key
            </button>
          </div>
        </>
      ) : (
        !error && <p class="loading">Making a key…</p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
