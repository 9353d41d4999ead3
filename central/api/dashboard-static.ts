/**
 * Where central's SOC dashboard is (served by server-shared/static-dashboard.ts):
 * `http.dashboard_dir`, else `dist/dashboards/central` of the checkout. Without a built dashboard
 * `/` says how to build it. The link's WebSocket path is not a page.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { registerDashboardStatic as registerStatic } from '../../server-shared/static-dashboard.ts';

export const DEFAULT_CENTRAL_DASHBOARD_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'dist',
  'dashboards',
  'central',
);

export function registerDashboardStatic(app: Hono, configured: string | undefined, linkPath: string): void {
  registerStatic(app, {
    dir: configured ?? DEFAULT_CENTRAL_DASHBOARD_DIR,
    notPages: ['/api', '/metrics', '/healthz', '/enroll', linkPath],
    name: 'the SOC dashboard',
  });
}
