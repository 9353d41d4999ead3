/**
 * Serves the built SOC dashboard (dashboards/build.ts: index.html, app.js, CSS) at `/` with the
 * Content-Security-Policy of server-shared/web-auth/SPEC.md §4, so the page loads nothing from the
 * internet and cannot be framed. The files are public (the page itself asks for a login); the
 * data is the API's, which checks permissions. Where the files are: `http.dashboard_dir`, else
 * `dist/dashboards/central` of the checkout. Without a built dashboard `/` says how to build it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/** SPEC.md §4. */
export const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

export const DEFAULT_CENTRAL_DASHBOARD_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'dist',
  'dashboards',
  'central',
);

const NOT_PAGES = ['/api', '/metrics', '/healthz', '/enroll'];

export function registerDashboardStatic(app: Hono, configured: string | undefined, linkPath: string): void {
  const dir = path.resolve(configured ?? DEFAULT_CENTRAL_DASHBOARD_DIR);
  const isPage = (p: string) =>
    ![...NOT_PAGES, linkPath].some((prefix) => p === prefix || p.startsWith(`${prefix}/`));
  const serve = serveStatic({ root: dir });
  // Middleware (method ALL), not a GET route: the auth middleware refuses matched routes that
  // declare no permission (server-shared/web-auth/permissions.ts), and these files are not /api.
  app.use('*', async (c, next) => {
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || !isPage(c.req.path)) return next();
    if (c.req.path === '/' && !existsSync(path.join(dir, 'index.html'))) {
      return c.text(`the SOC dashboard is not built in ${dir} (npx tsx dashboards/build.ts)`, 404);
    }
    c.header('Content-Security-Policy', DASHBOARD_CSP);
    c.header('cache-control', 'no-cache');
    return serve(c, next);
  });
}
