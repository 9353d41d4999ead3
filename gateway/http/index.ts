/**
 * The gateway's local HTTP server: `/healthz` (a small liveness answer), `/api/status` (link
 * state, queue depth and bytes per lane, age of the oldest unsent event, evictions, expected
 * drain time) and `/metrics` for Prometheus. Read-only; the device dashboard API joins it later.
 */
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { Inventory } from '../inventory/index.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { QueueDepth } from '../queue/leveldb-queue.ts';

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
}) {
  const app = new Hono();
  app.use('*', secureHeaders());
  // Degraded (link down) is still 200: the gateway is doing its job, buffering to disk.
  app.get('/healthz', async (c) => {
    const s = await deps.status();
    return c.json({
      status: s.status,
      gateway: s.gateway,
      link: { connected: s.link.connected },
      queue_events: s.queue.events,
    });
  });
  app.get('/api/status', async (c) => c.json(await deps.status()));
  app.get('/api/devices', (c) => {
    const protocol = c.req.query('protocol');
    const q = c.req.query('q')?.slice(0, 128);
    const devices = deps.inventory.list({ protocol, q });
    return c.json({
      devices: devices.slice(0, 1000),
      total: devices.length,
      forgotten: deps.inventory.forgotten,
    });
  });
  app.get('/api/devices/:id', (c) => {
    const device = deps.inventory.get(c.req.param('id'));
    return device ? c.json(device) : c.json({ error: 'no such device' }, 404);
  });
  app.get('/metrics', async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType });
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => c.json({ error: 'internal error', detail: error.message.slice(0, 200) }, 500));
  return app;
}
