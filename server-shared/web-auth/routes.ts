/**
 * The access-control API both servers mount under `/api` (SPEC.md §2–§3): login, logout, me,
 * own password, TOTP enrolment, API tokens, users (admin) and the audit log (admin). Refusals
 * have the one error shape of both servers (server-shared/http-errors.ts: `refuse` where the
 * handler audits first, `apiError` thrown for a bad body to the server's error handler). Handlers
 * write their own audit entries, which never hold a password, token or TOTP secret.
 */
import { randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type * as Api from '../../protocols/api/auth.ts';
import { apiError, refuse } from '../http-errors.ts';
import { type LoginLimiter, lockKeys } from './limiter.ts';
import { clientAddress, isTls } from './middleware.ts';
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  dummyHash,
  hashPassword,
  newUserRecord,
  verifyPassword,
} from './password.ts';
import { allowAnonymous, requireLogin, requirePermission } from './permissions.ts';
import {
  newApiToken,
  openSession,
  publicToken,
  publicUser,
  pruneSessions,
  type SessionPolicy,
  sha256Hex,
  totpEnrollmentPending,
} from './session.ts';
import { newTotpSecret, totpStep, totpUrl } from './totp.ts';
import {
  type AuditInput,
  type AuthStore,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  ROLES,
  type UserRecord,
} from './types.ts';

export interface AuthRoutesOptions {
  store: AuthStore;
  policy: SessionPolicy;
  cookieName: string;
  issuer: string;
  limiter: LoginLimiter;
  now: () => Date;
  onError?: (error: Error) => void;
}

export const usernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits and . _ @ - (1–64)');
export const passwordSchema = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);
const loginSchema = z.strictObject({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  totp: z.string().max(16).optional(),
});
const codeSchema = z.strictObject({ code: z.string().min(1).max(16) });
const passwordChange = z.strictObject({ current: z.string().max(MAX_PASSWORD_LENGTH), new: passwordSchema });
const tokenCreate = z.strictObject({
  name: z.string().min(1).max(64),
  scopes: z.array(z.enum(PERMISSIONS)).min(1),
  expires_in_secs: z
    .number()
    .int()
    .positive()
    .max(3 * 366 * 86_400)
    .optional(),
});
const userCreate = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: z.enum(ROLES).default('viewer'),
  require_totp: z.boolean().default(false),
});
const userPatch = z.strictObject({
  role: z.enum(ROLES).optional(),
  password: passwordSchema.optional(),
  require_totp: z.boolean().optional(),
  disabled: z.boolean().optional(),
  /** Clears a lost second factor (the user enrols again). */
  reset_totp: z.literal(true).optional(),
});
const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
  actor: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(128).optional(),
});

async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw apiError(400, 'invalid_body', 'the body must be JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || undefined;
    throw apiError(400, 'invalid_body', `${field ?? 'body'}: ${issue.message}`, { field });
  }
  return parsed.data;
}

export function createAuthRoutes(options: AuthRoutesOptions): Hono {
  const { store, policy, limiter, now } = options;
  const api = new Hono();

  // A failed audit write (full disk) is reported, not turned into a failed login.
  const audit = async (c: Context, entry: Omit<AuditInput, 'ts' | 'address'>) => {
    c.set('audited', true);
    await store
      .appendAudit({ ...entry, ts: now(), address: clientAddress(c) })
      .catch((error: Error) => options.onError?.(error));
  };
  const actor = (c: Context) => c.get('auth')?.actor ?? '-';

  const startSession = async (c: Context, user: UserRecord) => {
    // No session fixation: the presented session (if any) ends, a new id is issued.
    const presented = getCookie(c, options.cookieName);
    if (presented) await store.deleteSession(sha256Hex(presented));
    const { cookie, session } = await openSession(store, user.username, clientAddress(c), now());
    // Bounded storage: expired sessions go, and one user holds at most maxPerUser (a script that
    // logs in at every run would otherwise leave a session behind each time).
    await pruneSessions(store, policy, now()).catch((error: Error) => options.onError?.(error));
    if (policy.maxPerUser) {
      await store
        .trimUserSessions(user.username, policy.maxPerUser)
        .catch((error: Error) => options.onError?.(error));
    }
    setCookie(c, options.cookieName, cookie, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: isTls(c),
      maxAge: Math.floor(policy.maxMs / 1000),
    });
    return session;
  };
  const me = (user: UserRecord, csrf: string | null) => ({
    user: { username: user.username, role: user.role, totp_enabled: user.totp_enabled },
    permissions: totpEnrollmentPending(user, policy) ? [] : ROLE_PERMISSIONS[user.role],
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
        await store
          .lock(l.key, new Date(l.until), new Date(t))
          .catch((error: Error) => options.onError?.(error));
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
    deleteCookie(c, options.cookieName, { path: '/' });
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
      });
    }
    const out = me(user, identity.session?.csrf_token ?? null);
    return c.json(identity.kind === 'token' ? { ...out, permissions: [...identity.permissions] } : out);
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

  api.post('/auth/totp/setup', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    const user = identity.username ? await store.getUser(identity.username) : undefined;
    if (!user || identity.kind !== 'session')
      return refuse(c, 400, 'bad_request', 'TOTP is enrolled from a login session');
    if (user.totp_enabled) return refuse(c, 409, 'conflict', 'TOTP is already enabled; disable it first');
    const secret = newTotpSecret();
    await store.updateUser(user.username, { totp_secret: secret, updated_at: now() });
    await audit(c, { actor: user.username, action: 'auth.totp_setup', target: user.username, outcome: 'ok' });
    return c.json({ secret, otpauth_url: totpUrl(secret, options.issuer, user.username) });
  });

  const totpChange = (enable: boolean) => async (c: Context) => {
    const identity = c.get('auth')!;
    const { code } = await body(c, codeSchema);
    const user = identity.username ? await store.getUser(identity.username) : undefined;
    const action = enable ? 'auth.totp_enable' : 'auth.totp_disable';
    if (!user || !user.totp_secret || user.totp_enabled !== !enable) {
      return refuse(c, 409, 'conflict', enable ? 'call /api/auth/totp/setup first' : 'TOTP is not enabled');
    }
    const step = totpStep(user.totp_secret, code.trim(), now().getTime());
    if (step === null || !(await store.useTotpStep(user.username, step))) {
      await audit(c, { actor: user.username, action, target: user.username, outcome: 'denied' });
      return refuse(c, 403, 'wrong_secret', 'wrong TOTP code', { field: 'code' });
    }
    if (!enable && (policy.requireTotp || user.require_totp)) {
      return refuse(c, 403, 'forbidden', 'TOTP is required for this user');
    }
    await store.updateUser(user.username, {
      totp_enabled: enable,
      ...(enable ? {} : { totp_secret: null }),
      updated_at: now(),
    });
    await audit(c, { actor: user.username, action, target: user.username, outcome: 'ok' });
    return c.json({ totp_enabled: enable });
  };
  api.post('/auth/totp/enable', requireLogin(), totpChange(true));
  api.post('/auth/totp/disable', requireLogin(), totpChange(false));

  api.get('/auth/tokens', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    const all = identity.permissions.has('admin');
    const tokens = await store.listTokens(all ? undefined : (identity.username ?? '\0'));
    return c.json({ tokens: tokens.map(publicToken) });
  });
  api.post('/auth/tokens', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    if (!identity.username || identity.kind !== 'session') {
      return refuse(c, 400, 'bad_request', 'API tokens are created from a login session');
    }
    const input = await body(c, tokenCreate);
    const beyond = input.scopes.filter((s) => !identity.permissions.has(s));
    if (beyond.length > 0)
      return refuse(c, 403, 'forbidden', `your role does not allow scope ${beyond.join(', ')}`, {
        field: 'scope',
      });
    const token = newApiToken();
    const created = now();
    const record = {
      id: randomBytes(8).toString('hex'),
      token_sha256: sha256Hex(token),
      name: input.name,
      username: identity.username,
      scopes: [...new Set(input.scopes)],
      created_at: created,
      expires_at: input.expires_in_secs ? new Date(created.getTime() + input.expires_in_secs * 1000) : null,
      last_used_at: null,
    };
    await store.createToken(record);
    await audit(c, {
      actor: identity.actor,
      action: 'token.create',
      target: `${record.id} ${record.name}`,
      outcome: 'ok',
      detail: { scopes: record.scopes },
    });
    // The only time the token is shown: it is stored as SHA-256.
    return c.json({ ...publicToken(record), token }, 201);
  });
  api.delete('/auth/tokens/:id', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    const id = c.req.param('id');
    const owner = identity.permissions.has('admin') ? undefined : (identity.username ?? '\0');
    const deleted = await store.deleteToken(id, owner);
    await audit(c, {
      actor: identity.actor,
      action: 'token.delete',
      target: id,
      outcome: deleted ? 'ok' : 'not found',
    });
    return deleted ? c.body(null, 204) : refuse(c, 404, 'not_found', 'no such token');
  });

  api.get('/users', requirePermission('admin'), async (c) =>
    c.json({ users: (await store.listUsers()).map(publicUser) } satisfies Api.UsersResponse),
  );
  api.post('/users', requirePermission('admin'), async (c) => {
    const input = await body(c, userCreate);
    const t = now();
    const created = await store.createUser(
      await newUserRecord(input.username, input.role, input.password, t, input.require_totp),
    );
    await audit(c, {
      actor: actor(c),
      action: 'user.create',
      target: input.username,
      outcome: created ? 'ok' : 'exists',
      detail: { role: input.role },
    });
    if (!created) return refuse(c, 409, 'conflict', `user ${input.username} exists`, { field: 'username' });
    return c.json(publicUser((await store.getUser(input.username))!) satisfies Api.User, 201);
  });
  api.patch('/users/:username', requirePermission('admin'), async (c) => {
    const username = c.req.param('username');
    const input = await body(c, userPatch);
    const user = await store.getUser(username);
    if (!user) return refuse(c, 404, 'not_found', 'no such user');
    const self = c.get('auth')?.username === username;
    if (self && ((input.role && input.role !== 'admin') || input.disabled)) {
      return refuse(c, 409, 'conflict', 'an admin cannot demote or disable themselves');
    }
    const updated = await store.updateUser(username, {
      ...(input.role && { role: input.role }),
      ...(input.password && { password_hash: await hashPassword(input.password) }),
      ...(input.require_totp !== undefined && { require_totp: input.require_totp }),
      ...(input.disabled !== undefined && { disabled: input.disabled }),
      ...(input.reset_totp && { totp_enabled: false, totp_secret: null }),
      updated_at: now(),
    });
    if (input.password || input.disabled || input.role) await store.deleteUserSessions(username);
    await audit(c, {
      actor: actor(c),
      action: 'user.update',
      target: username,
      outcome: 'ok',
      // Which fields changed, never the new password.
      detail: { changed: Object.keys(input), ...(input.role && { role: input.role }) },
    });
    return c.json(publicUser(updated!) satisfies Api.User);
  });
  api.delete('/users/:username', requirePermission('admin'), async (c) => {
    const username = c.req.param('username');
    if (c.get('auth')?.username === username)
      return refuse(c, 409, 'conflict', 'an admin cannot delete themselves');
    const deleted = await store.deleteUser(username);
    await audit(c, {
      actor: actor(c),
      action: 'user.delete',
      target: username,
      outcome: deleted ? 'ok' : 'not found',
    });
    return deleted ? c.body(null, 204) : refuse(c, 404, 'not_found', 'no such user');
  });

  api.get('/audit', requirePermission('admin'), async (c) => {
    const parsed = auditQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
      return refuse(c, 400, 'invalid_query', issue.message, { field: field || undefined });
    }
    const entries = await store.listAudit(parsed.data);
    return c.json({
      entries: entries.map((e) => ({ ...e, ts: e.ts.toISOString() })),
      next_before: entries.length === parsed.data.limit ? entries.at(-1)!.id : null,
    } satisfies Api.AuditPage);
  });
  return api;
}
