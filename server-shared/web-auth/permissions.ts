/**
 * Declaring what each API route needs (SPEC.md §1). A route declares its permission by putting
 * `requirePermission('read' | 'alerts' | 'rules' | 'admin' | 'ingest' | 'reports' | 'playbooks')`, `requireLogin()` (any authenticated
 * caller) or `allowAnonymous()` in front of its handler:
 *
 *   api.get('/alerts', requirePermission('read'), handler)
 *
 * The middleware is tagged with what it declares, so the auth middleware refuses (403) a matched
 * /api route that declares nothing (fail closed) and `undeclaredApiRoutes(app)` lists such routes
 * from the route table (the test that walks both apps).
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { type ApiErrorCode, refuse } from '../http-errors.ts';
import type { Permission, Role, SessionRecord } from './types.ts';

export type Declared = Permission | 'login' | 'public';

/** Who is calling, as the auth middleware found it. */
export interface AuthIdentity {
  kind: 'session' | 'token' | 'config_token';
  /** The user (session or personal token); null for tokens from the config file. */
  username: string | null;
  /** What the audit log and alert history record: the username, or the config token's name. */
  actor: string;
  role: Role | null;
  permissions: ReadonlySet<Permission>;
  session?: SessionRecord;
  tokenName?: string;
  /**
   * TOTP is required but not enrolled yet: a session may only enrol it, read `me` and log out
   * (`TOTP_PENDING_PATHS`); a personal token is refused outright until then.
   */
  totpEnrollmentPending: boolean;
}

declare module 'hono' {
  interface ContextVariableMap {
    auth: AuthIdentity | undefined;
    /** Set by a handler that wrote its own audit entry (the generic one is then skipped). */
    audited: boolean | undefined;
  }
}

const DECLARED = Symbol.for('edge-siem.web-auth.declared');
// hono-base.ts route(): a sub-app with its own error handler wraps each handler and keeps the original here.
const COMPOSED_HANDLER = '__COMPOSED_HANDLER';

type Tagged = MiddlewareHandler & { [DECLARED]?: Declared };

function tag(declared: Declared, handler: MiddlewareHandler): MiddlewareHandler {
  return Object.assign(handler, { [DECLARED]: declared });
}

/** What a handler declares, if it is one of ours (unwrapping Hono's sub-app error wrapper). */
export function declaredBy(handler: unknown): Declared | undefined {
  let h = handler as (Tagged & Record<string, unknown>) | undefined;
  for (let i = 0; h && i < 4; i++) {
    if (h[DECLARED]) return h[DECLARED];
    h = h[COMPOSED_HANDLER] as typeof h;
  }
  return undefined;
}

/** Why a caller is refused: the status, code and message of the answer (server-shared/http-errors.ts). */
export interface Refusal {
  status: 401 | 403;
  code: ApiErrorCode;
  error: string;
  extra?: { totp_enrollment_required?: boolean };
}

/** Answers a refusal (a 401 carries `www-authenticate: Bearer`). */
export function deny(c: Context, refused: Refusal): Response {
  return refuse(c, refused.status, refused.code, refused.error, { extra: refused.extra });
}

/**
 * What a session whose TOTP enrolment is pending may reach (SPEC.md §2). An allow-list of exact
 * paths, not a prefix: `/api/auth/*` also holds token creation and the password change, which
 * would turn the password alone into lasting access (security review, issue 15 item 1).
 */
export const TOTP_PENDING_PATHS: ReadonlySet<string> = new Set([
  '/api/auth/me',
  '/api/auth/logout',
  '/api/auth/totp/setup',
  '/api/auth/totp/enable',
]);

/** Checks an identity against a declaration: undefined when allowed, else the refusal. */
export function refusal(
  identity: AuthIdentity | undefined,
  declared: Declared,
  path: string,
): Refusal | undefined {
  if (declared === 'public') return undefined;
  if (!identity) return { status: 401, code: 'unauthenticated', error: 'authentication required' };
  if (identity.totpEnrollmentPending && (identity.kind !== 'session' || !TOTP_PENDING_PATHS.has(path))) {
    return {
      status: 403,
      code: 'forbidden',
      error:
        identity.kind === 'session'
          ? 'a TOTP second factor must be enrolled first (POST /api/auth/totp/setup)'
          : "this token's owner must enrol a TOTP second factor first",
      extra: { totp_enrollment_required: true },
    };
  }
  if (declared === 'login') return undefined;
  if (!identity.permissions.has(declared))
    return { status: 403, code: 'forbidden', error: `this requires permission ${declared}` };
  return undefined;
}

/** The route needs this permission (SPEC.md §1). */
export function requirePermission(permission: Permission): MiddlewareHandler {
  return tag(permission, async (c, next) => {
    const refused = refusal(c.get('auth'), permission, c.req.path);
    if (refused) return deny(c, refused);
    await next();
  });
}

/** The route needs an authenticated caller, whatever their permissions (own profile, logout). */
export function requireLogin(): MiddlewareHandler {
  return tag('login', async (c, next) => {
    const refused = refusal(c.get('auth'), 'login', c.req.path);
    if (refused) return deny(c, refused);
    await next();
  });
}

/** The route is open (login itself). */
export function allowAnonymous(): MiddlewareHandler {
  return tag('public', async (_c, next) => {
    await next();
  });
}

/**
 * What the routes matched by this request declare: the strictest declaration wins
 * (`undefined` when the request matched an /api route declaring nothing, `null` when it matched
 * no route but middleware, i.e. a 404).
 */
export function declaredForRequest(c: Context): Declared | undefined | null {
  const routes = matchedRoutes(c);
  const found = routes.map((r) => declaredBy(r.handler)).filter((d): d is Declared => d !== undefined);
  if (found.length === 0) return routes.some((r) => r.method !== 'ALL') ? undefined : null;
  return found.find((d) => d !== 'public' && d !== 'login') ?? found.find((d) => d === 'login') ?? 'public';
}

/** `METHOD path` of every /api route of the app with no declared permission. */
export function undeclaredApiRoutes(app: Hono, prefix = '/api'): string[] {
  const routes = app.routes;
  const covers = (pattern: string, path: string) =>
    pattern === path || (pattern.endsWith('/*') && path.startsWith(pattern.slice(0, -1)));
  const out: string[] = [];
  for (const r of routes) {
    if (r.method === 'ALL' || !(r.path === prefix || r.path.startsWith(`${prefix}/`))) continue;
    const declared = routes.some(
      (d) =>
        (d.method === r.method || d.method === 'ALL') &&
        covers(d.path, r.path) &&
        declaredBy(d.handler) !== undefined,
    );
    if (!declared) out.push(`${r.method} ${r.path}`);
  }
  return [...new Set(out)];
}
