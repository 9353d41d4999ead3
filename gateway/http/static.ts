/**
 * Where the gateway's device dashboard is (served by server-shared/static-dashboard.ts):
 * `http.dashboard_dir`, else `dist/dashboards/gateway` of the checkout, else `dashboards/gateway`
 * beside the bundled gateway. A gateway without a built dashboard still serves its API, and says so
 * at `/`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { registerDashboardStatic as registerStatic } from '../../server-shared/static-dashboard.ts';

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
  registerStatic(app, {
    dir: dashboardDir(configured),
    notPages: ['/api', '/metrics', '/healthz'],
    name: 'the device dashboard',
  });
}
