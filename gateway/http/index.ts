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
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import {
  createMetricsGuard,
  type MetricsAccessConfig,
  requirePermission,
  type WebAuth,
} from '../../server-shared/web-auth/index.ts';
import type { Inventory } from '../inventory/index.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { StageCounts } from '../pipeline/stage.ts';
import type { QueueDepth } from '../queue/leveldb-queue.ts';
import { baselineState, type DashboardDeps, registerDashboardRoutes } from './dashboard-routes.ts';
import { createDeviceHistory } from './device-series.ts';
import { registerDashboardStatic } from './static.ts';

export interface GatewayStatus {
  status: 'ok' | 'degraded';
  gateway: string;
  link: {
    connected: boolean;
    connected_since: string | null;
    last_error: string | null;
    in_flight_batches: number;
    window: number;
    paused_until: string | null;
    clock_offset_ms: number | null;
    /** While the link is down: since when (gateway start, or the last disconnect). */
    disconnected_since: string | null;
    ack_rate_per_sec: number;
  };
  queue: QueueDepth & {
    max_size_bytes: number;
    /** The last failed queue write (full disk, I/O error), until a write succeeds again. */
    last_write_error: string | null;
    oldest_unsent_age_secs: number | null;
    /** Backlog over the recent ack rate; null while nothing is being acked (link down). */
    expected_drain_secs: number | null;
  };
  sources: Array<{
    name: string;
    type: string;
    addresses: Array<{ transport: string; host: string; port: number }>;
  }>;
  /** Each pipeline stage's counts since start: why an event is (not) on central. */
  pipeline?: {
    forward: string;
    stages: StageCounts[];
  };
  process: {
    rss_bytes: number;
    heap_used_bytes: number;
    external_bytes: number;
    array_buffers_bytes: number;
  };
}

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
}) {
  const app = new Hono();
  app.use('*', secureHeaders());
  // /healthz stays open (and says nothing but up or degraded); /metrics is open unless
  // http.metrics asks for a token or an allow-list; every /api route declares its permission.
  app.use('/api/*', bodyLimit({ maxSize: 256 * 1024 }));
  app.use('/api/*', deps.auth.middleware);
  app.route('/api', deps.auth.routes);
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
    return c.json({ status: s.status });
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
    });
  });
  app.get('/api/devices/:id', requirePermission('read'), (c) => {
    const device = deps.inventory.get(c.req.param('id'));
    return device ? c.json(device) : c.json({ error: 'no such device' }, 404);
  });
  registerDashboardRoutes(app, dashboard);
  registerDashboardStatic(app, deps.dashboard?.dir);
  app.get('/metrics', createMetricsGuard(deps.metricsAccess ?? { allow: [] }), async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType });
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
    // The message may name files, addresses or internals: logged, never sent (issue 15 item 14).
    deps.metrics.errors.inc({ component: 'http', stage: 'processing', code: 'internal' });
    deps.logger?.error({ err: error.message, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
