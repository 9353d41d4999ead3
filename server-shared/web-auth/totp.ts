/**
 * TOTP second factor (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, ±1 step of clock drift) with
 * the `otpauth` package. Replay protection (a code is accepted once) is the caller's job through
 * the returned time step and `AuthStore.useTotpStep`.
 */
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_SECS = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function totpUrl(secret: string, issuer: string, username: string): string {
  return new TOTP({ issuer, label: username, secret: Secret.fromBase32(secret) }).toString();
}

/** The RFC 6238 time step the code belongs to, or null when it matches none within ±1 step. */
export function totpStep(secret: string, code: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD_SECS,
    timestamp: nowMs,
    window: 1,
  });
  if (delta === null) return null;
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECS) + delta;
}

/** The code for a time (tests and the CLI). */
export function totpCode(secret: string, nowMs: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), period: TOTP_PERIOD_SECS, timestamp: nowMs });
}
