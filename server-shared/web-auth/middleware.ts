/**
 * The one middleware in front of `/api/*` on both servers (SPEC.md §1–§3): finds the caller from
 * the session cookie or the bearer token, enforces CSRF on cookie-authenticated changes, refuses
 * what the matched route does not allow (a route declaring nothing is refused: fail closed), and
 * appends every state change to the audit log (who, what, where from, outcome; never bodies).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { getCookie } from 'hono/cookie';
import { matchedRoutes } from 'hono/route';
import { unmapIpv4 } from '../../protocols/event/address.ts';
import { refuse } from '../http-errors.ts';
import { type AuthIdentity, declaredForRequest, deny, refusal } from './permissions.ts';
import {
  bearerToken,
  configTokenIdentity,
  secretsEqual,
  sessionIdentity,
  type SessionPolicy,
  tokenIdentity,
} from './session.ts';
import type { AuthStore } from './types.ts';

export interface AuthMiddlewareOptions {
  store: AuthStore;
  policy: SessionPolicy;
  cookieName: string;
  configTokens: () => ReadonlyArray<{ name: string; token_sha256: string }>;
  now: () => Date;
  onError?: (error: Error) => void;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The peer address of the request (no proxy headers are trusted). */
export function clientAddress(c: Context): string | null {
  try {
    const address = getConnInfo(c).remote.address;
    return address ? unmapIpv4(address) : null;
  } catch {
    return null;
  }
}

export function isTls(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:';
}

/**
 * CSRF (SPEC.md §2): a change without a bearer token needs a same-origin Origin (when the browser
 * sends one: login included) and, when a session cookie authenticates it, the session's token in
 * x-csrf-token. Login itself is reached before a session exists: it needs only the Origin check.
 */
export function csrfRefusal(
  c: Context,
  identity: AuthIdentity | undefined,
  declared: string,
): string | undefined {
  if (SAFE_METHODS.has(c.req.method) || identity?.kind === 'token' || identity?.kind === 'config_token') {
    return undefined;
  }
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== new URL(c.req.url).origin) return 'cross-origin request refused';
  if (declared === 'public' || identity?.kind !== 'session') return undefined;
  const presented = c.req.header('x-csrf-token');
  const expected = identity.session?.csrf_token;
  // Constant time (security review, issue 15 item 14): `!==` stops at the first differing byte.
  if (!presented || !expected || !secretsEqual(presented, expected)) return 'missing or wrong x-csrf-token';
  return undefined;
}

export function createAuthMiddleware(options: AuthMiddlewareOptions): MiddlewareHandler {
  const { store, policy } = options;

  const identify = async (c: Context): Promise<AuthIdentity | undefined | 'bad_token'> => {
    const now = options.now();
    const token = bearerToken(c.req.header('authorization'));
    if (token) {
      return (
        configTokenIdentity(options.configTokens(), token) ??
        (await tokenIdentity(store, token, policy, now)) ??
        'bad_token'
      );
    }
    const cookie = getCookie(c, options.cookieName);
    return cookie ? sessionIdentity(store, cookie, policy, now) : undefined;
  };

  const audit = async (c: Context, identity: AuthIdentity | undefined, outcome: string) => {
    const routes = matchedRoutes(c).filter((r) => r.method !== 'ALL');
    const route = routes.at(-1)?.path ?? c.req.path;
    try {
      await store.appendAudit({
        ts: options.now(),
        actor: identity?.actor ?? '-',
        action: `${c.req.method} ${route}`,
        target: c.req.path.slice(0, 512),
        address: clientAddress(c),
        outcome,
        detail: identity?.tokenName ? { token: identity.tokenName } : null,
      });
    } catch (error) {
      options.onError?.(error as Error);
    }
  };

  const auditTotpPending = async (c: Context, identity: AuthIdentity) => {
    try {
      await store.appendAudit({
        ts: options.now(),
        actor: identity.actor,
        action: 'auth.totp_enrollment_required',
        target: `${c.req.method} ${c.req.path.slice(0, 512)}`,
        address: clientAddress(c),
        outcome: 'denied',
        detail: { via: identity.kind, ...(identity.tokenName && { token: identity.tokenName }) },
      });
    } catch (error) {
      options.onError?.(error as Error);
    }
  };

  return async (c, next) => {
    const declared = declaredForRequest(c);
    const found = await identify(c);
    const identity = found === 'bad_token' ? undefined : found;
    c.set('auth', identity);
    const unsafe = !SAFE_METHODS.has(c.req.method);

    if (found === 'bad_token' && declared !== 'public') {
      return refuse(c, 401, 'invalid_token', 'invalid or expired API token');
    }
    if (declared === null) {
      // No route matched: not found for a caller, unauthenticated otherwise (no route probing).
      if (!identity) return refuse(c, 401, 'unauthenticated', 'authentication required');
      return next();
    }
    if (declared === undefined) {
      if (unsafe) await audit(c, identity, 'denied');
      return refuse(c, 403, 'forbidden', 'this route declares no permission and is refused');
    }
    const refused = refusal(identity, declared, c.req.path);
    if (refused) {
      // A caller held to a TOTP enrolment is audited on every refusal, reads included: it is
      // someone holding the password (or a token of such a user) reaching past enrolment.
      if (identity?.totpEnrollmentPending) await auditTotpPending(c, identity);
      else if (unsafe && identity) await audit(c, identity, 'denied');
      return deny(c, refused);
    }
    const csrf = csrfRefusal(c, identity, declared);
    if (csrf) {
      await audit(c, identity, 'denied');
      return refuse(c, 403, 'csrf', csrf);
    }
    await next();
    if (unsafe && !c.get('audited') && c.get('auth')) await audit(c, c.get('auth'), String(c.res.status));
  };
}
