/**
 * Serves a built dashboard (dashboards/build.ts: index.html, app.js, CSS) at `/`, the same way on
 * both servers, with the Content-Security-Policy of server-shared/web-auth/SPEC.md §4 so the page
 * loads nothing from the internet and cannot be framed. The files are public (the page itself asks
 * for a login); the data behind them is the API's, which checks permissions. Each server says where
 * its files are and which paths are not pages (gateway/http/static.ts, central/api/dashboard-static.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/** SPEC.md §4. */
export const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

export interface DashboardStaticOptions {
  /** The directory of the built files; undefined when the server found none. */
  dir: string | undefined;
  /** Paths that are never pages (the API, /metrics, /healthz...): each itself and everything under it. */
  notPages: readonly string[];
  /** The dashboard, as named in the answer at `/` when it is not built: 'the SOC dashboard'. */
  name: string;
}

export function registerDashboardStatic(app: Hono, options: DashboardStaticOptions): void {
  const dir = options.dir === undefined ? undefined : path.resolve(options.dir);
  const isPage = (p: string) =>
    !options.notPages.some((prefix) => p === prefix || p.startsWith(`${prefix}/`));
  const serve = dir ? serveStatic({ root: dir }) : undefined;
  // Middleware (method ALL), not a GET route: the auth middleware refuses matched routes that
  // declare no permission (server-shared/web-auth/permissions.ts), and these files are not /api.
  app.use('*', async (c, next) => {
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || !isPage(c.req.path)) return next();
    if (c.req.path === '/' && !(dir && existsSync(path.join(dir, 'index.html')))) {
      const where = dir ? `in ${dir}` : 'here';
      return c.text(`${options.name} is not built ${where} (npx tsx dashboards/build.ts)`, 404);
    }
    c.header('Content-Security-Policy', DASHBOARD_CSP);
    // The files change with each build under the same names: revalidate rather than cache.
    c.header('cache-control', 'no-cache');
    return serve ? serve(c, next) : next();
  });
}
