/**
 * Sessions and API tokens (SPEC.md §2): how a request's cookie or bearer token becomes an
 * identity. Cookie values and tokens are 32 random bytes; only their SHA-256 is stored. A session
 * is over after `session_idle_secs` unused or `session_max_secs` after login; a personal API token
 * carries at most its scopes intersected with its owner's role, and nothing once the owner is
 * disabled or the token expired.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthIdentity } from './permissions.ts';
import {
  type ApiTokenRecord,
  type AuthStore,
  PERMISSIONS,
  type Permission,
  ROLE_PERMISSIONS,
  type SessionRecord,
  type UserRecord,
} from './types.ts';

/** Touch a session's last use at most this often (each touch is a write). */
const TOUCH_EVERY_MS = 15_000;
export const API_TOKEN_PREFIX = 'siem_';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Constant-time string equality for secrets a client presents (the CSRF token). Both sides are
 * hashed first, so `timingSafeEqual` always gets equal-length buffers and the time taken says
 * nothing about the expected value, its length included.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

export interface SessionPolicy {
  idleMs: number;
  maxMs: number;
  requireTotp: boolean;
  /** Sessions one user may hold; a login beyond it ends the oldest (none when absent). */
  maxPerUser?: number;
}

/**
 * Deletes the expired sessions from storage (SPEC.md §2): they are refused anyway, but kept they
 * would pile up forever, one per login. Run on a timer and at every login.
 */
export async function pruneSessions(store: AuthStore, policy: SessionPolicy, now: Date): Promise<number> {
  const t = now.getTime();
  return store.deleteExpiredSessions(new Date(t - policy.idleMs), new Date(t - policy.maxMs));
}

export function totpEnrollmentPending(user: UserRecord, policy: SessionPolicy): boolean {
  return (policy.requireTotp || user.require_totp) && !user.totp_enabled;
}

/** Creates a session for the user; returns the cookie value (shown to the client only). */
export async function openSession(
  store: AuthStore,
  username: string,
  address: string | null,
  now: Date,
): Promise<{ cookie: string; session: SessionRecord }> {
  const cookie = randomSecret();
  const session: SessionRecord = {
    id_sha256: sha256Hex(cookie),
    username,
    csrf_token: randomSecret(),
    address,
    created_at: now,
    last_seen_at: now,
  };
  await store.createSession(session);
  return { cookie, session };
}

/** The identity of a session cookie, or undefined (unknown, expired: then deleted, user gone). */
export async function sessionIdentity(
  store: AuthStore,
  cookie: string,
  policy: SessionPolicy,
  now: Date,
): Promise<AuthIdentity | undefined> {
  if (cookie.length > 128) return undefined;
  const session = await store.getSession(sha256Hex(cookie));
  if (!session) return undefined;
  const t = now.getTime();
  if (t - session.last_seen_at.getTime() > policy.idleMs || t - session.created_at.getTime() > policy.maxMs) {
    await store.deleteSession(session.id_sha256);
    return undefined;
  }
  const user = await store.getUser(session.username);
  if (!user || user.disabled) {
    await store.deleteSession(session.id_sha256);
    return undefined;
  }
  if (t - session.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
    await store.touchSession(session.id_sha256, now);
    session.last_seen_at = now;
  }
  return {
    kind: 'session',
    username: user.username,
    actor: user.username,
    role: user.role,
    permissions: new Set(ROLE_PERMISSIONS[user.role]),
    session,
    totpEnrollmentPending: totpEnrollmentPending(user, policy),
  };
}

/** The identity of a personal API token (`siem_…`), or undefined. */
export async function tokenIdentity(
  store: AuthStore,
  token: string,
  policy: SessionPolicy,
  now: Date,
): Promise<AuthIdentity | undefined> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 128) return undefined;
  const record = await store.findToken(sha256Hex(token));
  if (!record || (record.expires_at && record.expires_at.getTime() <= now.getTime())) return undefined;
  const user = await store.getUser(record.username);
  if (!user || user.disabled) return undefined;
  const allowed = new Set(ROLE_PERMISSIONS[user.role]);
  if (!record.last_used_at || now.getTime() - record.last_used_at.getTime() >= 60_000) {
    await store.touchToken(record.id, now);
  }
  return {
    kind: 'token',
    username: user.username,
    actor: user.username,
    role: user.role,
    permissions: new Set(record.scopes.filter((s) => allowed.has(s))),
    tokenName: record.name,
    // Held to the owner's TOTP rule: a token of a user who must enrol TOTP and has not is refused
    // (permissions.ts), else the password alone would still reach the API through it.
    totpEnrollmentPending: totpEnrollmentPending(user, policy),
  };
}

/** Tokens from the config file (`api.tokens`): every permission (SPEC.md §2). */
export function configTokenIdentity(
  tokens: ReadonlyArray<{ name: string; token_sha256: string }>,
  token: string,
): AuthIdentity | undefined {
  const digest = Buffer.from(sha256Hex(token), 'hex');
  let found: string | undefined;
  for (const t of tokens) {
    const candidate = Buffer.from(t.token_sha256, 'hex');
    if (candidate.length === digest.length && timingSafeEqual(candidate, digest)) found = t.name;
  }
  if (found === undefined) return undefined;
  return {
    kind: 'config_token',
    username: null,
    actor: found,
    role: null,
    permissions: new Set<Permission>(PERMISSIONS),
    tokenName: found,
    totpEnrollmentPending: false,
  };
}

export function newApiToken(): string {
  return `${API_TOKEN_PREFIX}${randomSecret()}`;
}

export function publicToken(t: ApiTokenRecord) {
  return {
    id: t.id,
    name: t.name,
    username: t.username,
    scopes: t.scopes,
    created_at: t.created_at.toISOString(),
    expires_at: t.expires_at?.toISOString() ?? null,
    last_used_at: t.last_used_at?.toISOString() ?? null,
  };
}

export function publicUser(u: UserRecord) {
  return {
    username: u.username,
    role: u.role,
    totp_enabled: u.totp_enabled,
    require_totp: u.require_totp,
    disabled: u.disabled,
    created_at: u.created_at.toISOString(),
    updated_at: u.updated_at.toISOString(),
  };
}
