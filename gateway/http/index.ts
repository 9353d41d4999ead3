/**
 * The gateway's local HTTP server: `/healthz` (a small liveness answer: no names, versions or
 * counts), `/api/status` (link state, queue depth and bytes per lane, age of the oldest unsent
 * event, evictions, expected drain time), `/metrics` for Prometheus (optionally behind a token or
 * an address allow-list: `http.metrics`), the device inventory, and the device dashboard (its API
 * in dashboard-routes.ts, its page at `/` from static.ts). A failed request answers a generic
 * 500; the detail goes to the log only.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import type * as Api from '../../protocols/api/gateway.ts';
import type { GatewayStatus } from '../../protocols/api/gateway.ts';
import { apiError, createErrorHandler, notFound } from '../../server-shared/http-errors.ts';
import { type IngestRouteDeps, registerIngestRoutes } from '../../server-shared/ingest-route.ts';
import { mountOpenApi } from '../../server-shared/openapi/index.ts';
import {
  createMetricsGuard,
  type MetricsAccessConfig,
  requirePermission,
  type WebAuth,
} from '../../server-shared/web-auth/index.ts';
import type { Inventory } from '../inventory/index.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { baselineState, type DashboardDeps, registerDashboardRoutes } from './dashboard-routes.ts';
import { registerResponseRoutes, type ResponseRouteDeps } from './response-routes.ts';
import { GATEWAY_ROUTE_DOCS } from './openapi.ts';
import { createDeviceHistory } from './device-series.ts';
import { registerDashboardStatic } from './static.ts';

/** `GET /api/status`: the contract's (protocols/api/gateway.ts); gateway/index.ts builds it. */
export type { GatewayStatus };

export function createGatewayHttp(deps: {
  metrics: GatewayMetrics;
  status: () => Promise<GatewayStatus>;
  inventory: Inventory;
  /** Access control of /api/* (server-shared/web-auth): sessions and tokens over the file store. */
  auth: WebAuth;
  /** The device dashboard (gateway/http/dashboard-routes.ts): live history, baselines, static dir. */
  dashboard?: Partial<Omit<DashboardDeps, 'inventory' | 'status'>> & { dir?: string };
  /** Who may read /metrics (`http.metrics`); open when absent. */
  metricsAccess?: MetricsAccessConfig;
  /** Where a failed request's detail goes (never to the client). */
  logger?: Logger;
  /** HTTP ingest (POST /api/ingest, /_bulk): gateway/http/ingest.ts. */
  ingest?: IngestRouteDeps;
  /** Response playbooks and their blocks (gateway/http/response-routes.ts). */
  response?: ResponseRouteDeps;
}) {
  const app = new Hono();
  app.use('*', secureHeaders());
  // /healthz stays open (and says nothing but up or degraded); /metrics is open unless
  // http.metrics asks for a token or an allow-list; every /api route declares its permission.
  const limit = bodyLimit({ maxSize: 256 * 1024 });
  // Ingest bounds its own body (http.ingest.max_body_bytes), refusing it while it is read.
  app.use('/api/*', (c, next) => (c.req.path.startsWith('/api/ingest') ? next() : limit(c, next)));
  app.use('/api/*', deps.auth.middleware);
  app.route('/api', deps.auth.routes);
  if (deps.ingest) registerIngestRoutes(app, deps.ingest, deps.auth.middleware);
  const dashboard: DashboardDeps = {
    history: createDeviceHistory(),
    ...deps.dashboard,
    inventory: deps.inventory,
    status: deps.status,
  };
  // Degraded (link down) is still 200: the gateway is doing its job, buffering to disk.
  // Anonymous: no gateway name, version or count (security review, issue 15 item 13).
  app.get('/healthz', async (c) => {
    const s = await deps.status();
    return c.json({ status: s.status } satisfies Api.GatewayHealth);
  });
  app.get('/api/status', requirePermission('read'), async (c) => c.json(await deps.status()));
  app.get('/api/devices', requirePermission('read'), (c) => {
    const protocol = c.req.query('protocol');
    const q = c.req.query('q')?.slice(0, 128);
    const devices = deps.inventory.list({ protocol, q });
    const now = Date.now();
    return c.json({
      devices: devices.slice(0, 1000).map((d) => ({ ...d, baseline: baselineState(dashboard, d.id, now) })),
      total: devices.length,
      forgotten: deps.inventory.forgotten,
    } satisfies Api.DevicesResponse);
  });
  app.get('/api/devices/:id', requirePermission('read'), (c) => {
    const device = deps.inventory.get(c.req.param('id'));
    if (!device) throw apiError(404, 'not_found', 'no such device');
    return c.json(device satisfies Api.Device);
  });
  registerDashboardRoutes(app, dashboard);
  if (deps.response) registerResponseRoutes(app, deps.response);
  mountOpenApi(app, {
    title: 'edge-siem gateway',
    version: '1',
    description: "The gateway's local REST API (docs/api.md). Errors: the ApiError shape.",
    cookieName: 'siem_gw_session',
    docs: GATEWAY_ROUTE_DOCS,
  });
  registerDashboardStatic(app, deps.dashboard?.dir);
  app.get('/metrics', createMetricsGuard(deps.metricsAccess ?? { allow: [] }), async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType });
  });
  app.notFound(notFound);
  // The message of an unexpected error may name files, addresses or internals: logged, never
  // sent (issue 15 item 14).
  app.onError(
    createErrorHandler({
      logger: deps.logger,
      countInternal: () =>
        deps.metrics.errors.inc({ component: 'http', stage: 'processing', code: 'internal' }),
    }),
  );
  return app;
}
