/**
 * Access control for both servers (SPEC.md): `createWebAuth` builds the `/api/*` middleware and
 * the auth, users and audit routes around an injected `AuthStore`, and `ensureFirstAdmin` creates
 * the first admin at start. Routes declare what they need with `requirePermission(...)`.
 *
 *   const auth = createWebAuth({ store, config, cookieName: 'siem_session', issuer: 'edge-siem' });
 *   app.use('/api/*', auth.middleware);
 *   app.route('/api', auth.routes);
 *   app.get('/api/overview', requirePermission('read'), handler);
 */
import { readFileSync, statSync } from 'node:fs';
import type { Hono, MiddlewareHandler } from 'hono';
import type { WebAuthConfig } from './config.ts';
import { LoginLimiter } from './limiter.ts';
import { createAuthMiddleware } from './middleware.ts';
import { MIN_PASSWORD_LENGTH, newUserRecord, randomPassword } from './password.ts';
import { createAuthRoutes } from './routes.ts';
import { pruneSessions, type SessionPolicy } from './session.ts';
import type { AuthStore } from './types.ts';

export { type WebAuthConfig, webAuthConfigSchema } from './config.ts';
export {
  allowAnonymous,
  type AuthIdentity,
  declaredBy,
  requireLogin,
  requirePermission,
  undeclaredApiRoutes,
} from './permissions.ts';
export { hashPassword, verifyPassword } from './password.ts';
export { createMetricsGuard, type MetricsAccessConfig, metricsAccessSchema } from './metrics-access.ts';
export * from './types.ts';

export interface WebAuthOptions {
  store: AuthStore;
  config: WebAuthConfig;
  /** `siem_session` on central, `siem_gw_session` on the gateway (SPEC.md §2). */
  cookieName: string;
  /** Shown by authenticator apps next to the account. */
  issuer: string;
  /** Tokens from the config file, with every permission (central's `api.tokens`). */
  configTokens?: ReadonlyArray<{ name: string; token_sha256: string }>;
  now?: () => Date;
  onError?: (error: Error) => void;
}

export interface WebAuth {
  /** Put in front of every `/api/*` route. */
  middleware: MiddlewareHandler;
  /** Mount at `/api`: /auth/*, /users, /audit. */
  routes: Hono;
  store: AuthStore;
  /** Deletes expired sessions now (also done every `session_prune_interval_secs` and at login). */
  pruneSessions(): Promise<number>;
  /** Stops the pruning timer (before the store closes). */
  close(): void;
}

export function createWebAuth(options: WebAuthOptions): WebAuth {
  const now = options.now ?? (() => new Date());
  const policy: SessionPolicy = {
    idleMs: options.config.session_idle_secs * 1000,
    maxMs: options.config.session_max_secs * 1000,
    requireTotp: options.config.require_totp,
    maxPerUser: options.config.max_sessions_per_user,
  };
  const configTokens = options.configTokens ?? [];
  const prune = () => pruneSessions(options.store, policy, now());
  const timer = setInterval(() => {
    prune().catch((error: Error) => options.onError?.(error));
  }, options.config.session_prune_interval_secs * 1000);
  timer.unref();
  return {
    store: options.store,
    pruneSessions: prune,
    close: () => clearInterval(timer),
    middleware: createAuthMiddleware({
      store: options.store,
      policy,
      cookieName: options.cookieName,
      configTokens: () => configTokens,
      now,
      onError: options.onError,
    }),
    routes: createAuthRoutes({
      store: options.store,
      policy,
      cookieName: options.cookieName,
      issuer: options.issuer,
      limiter: new LoginLimiter(),
      now,
      onError: options.onError,
    }),
  };
}

/**
 * First start (SPEC.md §2): with no users, creates `first_admin.username` with the password from
 * `first_admin.password_file`, or else a random one handed to `print` ONCE (stdout, never the
 * logger). Never a fixed default. Returns what it did, without the password.
 */
export async function ensureFirstAdmin(
  store: AuthStore,
  config: WebAuthConfig,
  print: (text: string) => void,
  now: Date = new Date(),
): Promise<{ created: false } | { created: true; username: string; from: 'file' | 'random' }> {
  if ((await store.countUsers()) > 0) return { created: false };
  const { username, password_file: file } = config.first_admin;
  let password: string;
  if (file) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) {
        throw new Error(`auth.first_admin.password_file ${file} must not be readable by others (chmod 600)`);
      }
      password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const message = (error as NodeJS.ErrnoException).code
        ? `auth.first_admin.password_file: cannot read ${file}`
        : (error as Error).message;
      throw new Error(message, { cause: error });
    }
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new Error(
        `auth.first_admin.password_file: the password must have at least ${MIN_PASSWORD_LENGTH} characters`,
      );
    }
  } else {
    password = randomPassword();
  }
  const created = await store.createUser(await newUserRecord(username, 'admin', password, now));
  if (!created) return { created: false };
  await store.appendAudit({
    ts: now,
    actor: '-',
    action: 'user.create_first_admin',
    target: username,
    address: null,
    outcome: 'ok',
    detail: { source: file ? 'password_file' : 'random, printed once' },
  });
  if (!file) {
    print(
      `first admin created: username "${username}", password ${password}\n` +
        '  (shown only this once: log in and change it, or set auth.first_admin.password_file)\n',
    );
  }
  return { created: true, username, from: file ? 'file' : 'random' };
}
