/**
 * Serves the built device dashboard (dashboards/build.ts: index.html, app.js, CSS) at `/` with the
 * Content-Security-Policy of server-shared/web-auth/SPEC.md §4, so the page loads nothing from the
 * internet and cannot be framed. The files are public (the page itself asks for a login); the data
 * behind them is the API's, which checks permissions. Where the files are: `http.dashboard_dir`,
 * else `dist/dashboards/gateway` of the checkout, else `dashboards/gateway` beside the bundled
 * gateway. A gateway without a built dashboard still serves its API, and says so at `/`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/** SPEC.md §4. */
export const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

/** The dashboard directory to serve: the configured one, else the first built one found. */
export function dashboardDir(configured: string | undefined): string | undefined {
  if (configured) return path.resolve(configured);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '..', '..', 'dist', 'dashboards', 'gateway'), // gateway/http in a checkout
    path.resolve(here, 'dashboards', 'gateway'), // beside dist/gateway/siem-gateway.mjs
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
}

/** `configured`: `http.dashboard_dir`; without it, the first built dashboard found (dashboardDir). */
export function registerDashboardStatic(app: Hono, configured: string | undefined): void {
  const dir = dashboardDir(configured);
  const isPage = (p: string) =>
    p !== '/api' && !p.startsWith('/api/') && p !== '/metrics' && p !== '/healthz';
  const serve = dir && existsSync(dir) ? serveStatic({ root: dir }) : undefined;
  // Middleware (method ALL), not a GET route: the auth middleware treats a matched GET route
  // without a declared permission as a refusal (web-auth permissions.ts), and these are not /api.
  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' || !isPage(c.req.path)) return next();
    c.header('Content-Security-Policy', DASHBOARD_CSP);
    if (serve) return serve(c, next);
    if (c.req.path !== '/') return next();
    return c.text('the device dashboard is not built here (npx tsx dashboards/build.ts)', 404);
  });
}
