/**
 * The gateway's local HTTP server: `/healthz` (is it running, is the link up, how deep is the
 * queue) and `/metrics` for Prometheus. Read-only; later the device dashboard API joins it.
 */
import { Hono } from 'hono';
import type { GatewayMetrics } from '../metrics.ts';
import type { QueueDepth } from '../queue/leveldb-queue.ts';

export interface GatewayHealth {
  status: 'ok' | 'degraded';
  gateway: string;
  link: { connected: boolean; clock_offset_ms: number | null };
  queue: QueueDepth;
  sources: Array<{
    name: string;
    type: string;
    addresses: Array<{ transport: string; host: string; port: number }>;
  }>;
}

export function createGatewayHttp(deps: { metrics: GatewayMetrics; health: () => GatewayHealth }) {
  const app = new Hono();
  app.get('/healthz', (c) => {
    const health = deps.health();
    // Degraded (link down) is still 200: the gateway is doing its job, buffering to disk.
    return c.json(health, 200);
  });
  app.get('/metrics', async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType });
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => c.json({ error: 'internal error', detail: error.message.slice(0, 200) }, 500));
  return app;
}
