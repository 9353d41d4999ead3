/**
 * Logging in and out (SPEC.md §2): `POST /auth/login` with the lockout after failed attempts and
 * the TOTP code when enrolled, `POST /auth/logout`, `GET /auth/me` (who is calling and what they
 * may do) and `POST /auth/password` (one's own password, which ends one's other sessions).
 */
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type * as Api from '../../protocols/api/auth.ts';
import { refuse } from '../http-errors.ts';
import { lockKeys } from './limiter.ts';
import { clientAddress, isTls } from './middleware.ts';
import { MAX_PASSWORD_LENGTH, dummyHash, hashPassword, verifyPassword } from './password.ts';
import { allowAnonymous, requireLogin } from './permissions.ts';
import { type AuthRoutesContext, body, passwordSchema } from './routes-context.ts';
import { openSession, pruneSessions, sha256Hex, totpEnrollmentPending } from './session.ts';
import { totpStep } from './totp.ts';
import { ROLE_PERMISSIONS, type UserRecord } from './types.ts';

export const loginSchema = z.strictObject({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  totp: z.string().max(16).optional(),
});
export const passwordChange = z.strictObject({
  current: z.string().max(MAX_PASSWORD_LENGTH),
  new: passwordSchema,
});

export function routeSession(api: Hono, ctx: AuthRoutesContext): void {
  const { store, policy, limiter, now, audit } = ctx;

  const startSession = async (c: Context, user: UserRecord) => {
    // No session fixation: the presented session (if any) ends, a new id is issued.
    const presented = getCookie(c, ctx.cookieName);
    if (presented) await store.deleteSession(sha256Hex(presented));
    const { cookie, session } = await openSession(store, user.username, clientAddress(c), now());
    // Bounded storage: expired sessions go, and one user holds at most maxPerUser (a script that
    // logs in at every run would otherwise leave a session behind each time).
    await pruneSessions(store, policy, now()).catch((error: Error) => ctx.onError?.(error));
    if (policy.maxPerUser) {
      await store
        .trimUserSessions(user.username, policy.maxPerUser)
        .catch((error: Error) => ctx.onError?.(error));
    }
    setCookie(c, ctx.cookieName, cookie, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: isTls(c),
      maxAge: Math.floor(policy.maxMs / 1000),
    });
    return session;
  };
  const me = (user: UserRecord, csrf: string | null): Api.Session => ({
    user: { username: user.username, role: user.role, totp_enabled: user.totp_enabled },
    permissions: totpEnrollmentPending(user, policy) ? [] : [...ROLE_PERMISSIONS[user.role]],
    totp_enrollment_required: totpEnrollmentPending(user, policy),
    csrf_token: csrf,
  });

  api.post('/auth/login', allowAnonymous(), async (c) => {
    // A cross-site HTML form cannot send application/json without a CORS preflight (SPEC.md §2).
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      return refuse(c, 415, 'unsupported_media_type', 'login requires content-type: application/json');
    }
    const input = await body(c, loginSchema);
    const address = clientAddress(c);
    const t = now().getTime();
    // Lockouts from before a restart are in the store; the counting is in memory.
    const stored = await store.lockedUntil(lockKeys(input.username, address), new Date(t));
    const wait = Math.max(limiter.retryAfterMs(input.username, address, t), (stored?.getTime() ?? 0) - t);
    if (wait > 0) {
      await audit(c, { actor: '-', action: 'auth.login_locked', target: input.username, outcome: 'denied' });
      return refuse(c, 429, 'too_many_requests', 'too many failed logins; try again later', {
        headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
      });
    }
    const user = await store.getUser(input.username);
    const passwordOk = await verifyPassword(input.password, user?.password_hash ?? (await dummyHash()));
    const fail = async (reason: string) => {
      const locked = limiter.fail(input.username, address, t);
      for (const l of locked) {
        // Not kept (a full disk): the lockout still holds in memory until a restart.
        await store.lock(l.key, new Date(l.until), new Date(t)).catch((error: Error) => ctx.onError?.(error));
      }
      await audit(c, {
        actor: '-',
        action: 'auth.login_failed',
        target: input.username,
        outcome: 'denied',
        detail: { reason },
      });
      if (locked.length > 0) {
        await audit(c, { actor: '-', action: 'auth.lockout', target: input.username, outcome: 'denied' });
      }
      return refuse(c, 401, 'invalid_credentials', 'invalid credentials');
    };
    if (!user || !passwordOk || user.disabled) {
      return fail(!user ? 'unknown user' : user.disabled ? 'disabled' : 'bad password');
    }
    if (user.totp_enabled && user.totp_secret) {
      if (!input.totp) {
        // The right password without a code: audited (someone may hold the password), not counted
        // towards a lockout (a login form first asks without the code).
        await audit(c, {
          actor: '-',
          action: 'auth.login_failed',
          target: input.username,
          outcome: 'denied',
          detail: { reason: 'totp code required' },
        });
        return refuse(c, 401, 'totp_required', 'a TOTP code is required', { extra: { totp_required: true } });
      }
      const step = totpStep(user.totp_secret, input.totp.trim(), t);
      if (step === null) return fail('bad totp');
      if (!(await store.useTotpStep(user.username, step))) return fail('replayed totp');
    }
    limiter.succeed(user.username);
    const session = await startSession(c, user);
    await audit(c, { actor: user.username, action: 'auth.login', target: user.username, outcome: 'ok' });
    return c.json(me(user, session.csrf_token));
  });

  api.post('/auth/logout', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    if (identity.session) await store.deleteSession(identity.session.id_sha256);
    deleteCookie(c, ctx.cookieName, { path: '/' });
    await audit(c, { actor: identity.actor, action: 'auth.logout', target: identity.actor, outcome: 'ok' });
    return c.json({ ok: true });
  });

  api.get('/auth/me', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    const user = identity.username ? await store.getUser(identity.username) : undefined;
    if (!user) {
      return c.json({
        user: { username: identity.actor, role: null },
        permissions: [...identity.permissions],
      } satisfies Api.ConfigTokenMe);
    }
    const out = me(user, identity.session?.csrf_token ?? null);
    return c.json(
      (identity.kind === 'token'
        ? { ...out, permissions: [...identity.permissions] }
        : out) satisfies Api.Session,
    );
  });

  api.post('/auth/password', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    const input = await body(c, passwordChange);
    const user = identity.username ? await store.getUser(identity.username) : undefined;
    if (!user) return refuse(c, 400, 'bad_request', 'only users have a password');
    if (!(await verifyPassword(input.current, user.password_hash))) {
      await audit(c, {
        actor: user.username,
        action: 'auth.password',
        target: user.username,
        outcome: 'denied',
      });
      return refuse(c, 403, 'wrong_secret', 'the current password is wrong', { field: 'current' });
    }
    await store.updateUser(user.username, {
      password_hash: await hashPassword(input.new),
      updated_at: now(),
    });
    // Other sessions of a user whose password changed end (a thief's session too).
    await store.deleteUserSessions(user.username, identity.session?.id_sha256);
    await audit(c, { actor: user.username, action: 'auth.password', target: user.username, outcome: 'ok' });
    return c.json({ ok: true });
  });
}
