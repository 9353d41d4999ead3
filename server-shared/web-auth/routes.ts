/**
 * The access-control API both servers mount under `/api` (SPEC.md §2–§3), composed from its route
 * groups: logging in and out (routes-session.ts), TOTP enrolment (routes-totp.ts), API tokens
 * (routes-tokens.ts), users (routes-users.ts, admin) and the audit log (routes-audit.ts, admin).
 * Refusals have the one error shape of both servers (server-shared/http-errors.ts: `refuse` where
 * the handler audits first, `apiError` thrown for a bad body to the server's error handler).
 * Handlers write their own audit entries, which never hold a password, token or TOTP secret.
 */
import { Hono } from 'hono';
import { type AuthRoutesOptions, createAuthRoutesContext } from './routes-context.ts';
import { routeAudit } from './routes-audit.ts';
import { routeSession } from './routes-session.ts';
import { routeTokens } from './routes-tokens.ts';
import { routeTotp } from './routes-totp.ts';
import { routeUsers } from './routes-users.ts';

export type { AuthRoutesOptions } from './routes-context.ts';

export function createAuthRoutes(options: AuthRoutesOptions): Hono {
  const api = new Hono();
  const ctx = createAuthRoutesContext(options);
  routeSession(api, ctx);
  routeTotp(api, ctx);
  routeTokens(api, ctx);
  routeUsers(api, ctx);
  routeAudit(api, ctx);
  return api;
}
