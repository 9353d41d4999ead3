/**
 * Live updates for the SOC dashboard, `GET /api/stream` as server-sent events
 * (server-shared/web-auth/SPEC.md §5, `read` permission): `alert` with every new or changed alert
 * (from the alerts' change emitter, after commit), `stats` every 2 s (events stored per second,
 * overall and per gateway, and gateways connected), `gateway` when one connects or disconnects,
 * and a `: heartbeat` comment every 15 s so proxies keep the connection open. One hub per
 * central computes the stats once for every subscriber, and only while someone listens.
 */
import type { EventEmitter } from 'node:events';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type { Alert } from '../alerts/types.ts';
import type { GatewayConnection } from '../link/server.ts';
import type { CentralMetrics } from '../metrics.ts';

export const STATS_INTERVAL_MS = 2000;
export const HEARTBEAT_INTERVAL_MS = 15_000;

export interface LiveStats {
  at: string;
  events_per_sec: number;
  /** Events stored per second by gateway over the last interval. */
  gateways: Record<string, number>;
  gateways_connected: number;
}

export interface LiveMessage {
  event: 'alert' | 'stats' | 'gateway';
  data: unknown;
}

export interface LiveHubDeps {
  changes: EventEmitter<{ alert: [Alert] }>;
  metrics: CentralMetrics;
  connections: () => GatewayConnection[];
  statsIntervalMs?: number;
}

async function insertedByGateway(metrics: CentralMetrics): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of (await metrics.inserted.get()).values) {
    const gw = String(v.labels.gateway ?? '');
    out.set(gw, (out.get(gw) ?? 0) + v.value);
  }
  return out;
}

export function createLiveHub(deps: LiveHubDeps) {
  const intervalMs = deps.statsIntervalMs ?? STATS_INTERVAL_MS;
  const subscribers = new Set<(m: LiveMessage) => void>();
  let timer: NodeJS.Timeout | undefined;
  let last: { at: number; counts: Map<string, number> } | undefined;
  let connected = new Map<string, GatewayConnection>();
  let latest: LiveStats = {
    at: new Date().toISOString(),
    events_per_sec: 0,
    gateways: {},
    gateways_connected: 0,
  };

  const publish = (m: LiveMessage) => {
    for (const s of subscribers) s(m);
  };
  const onAlert = (alert: Alert) => publish({ event: 'alert', data: alert });

  async function tick(): Promise<void> {
    const now = Date.now();
    const counts = await insertedByGateway(deps.metrics);
    const gateways: Record<string, number> = {};
    let total = 0;
    if (last) {
      const secs = Math.max((now - last.at) / 1000, 0.001);
      for (const [gw, n] of counts) {
        const r = (n - (last.counts.get(gw) ?? 0)) / secs;
        gateways[gw] = Math.round(r * 100) / 100;
        total += r;
      }
    }
    last = { at: now, counts };
    // Connects and disconnects since the last tick (the link keeps no listeners of its own).
    const current = new Map(deps.connections().map((c) => [c.gateway, c]));
    for (const [gw, c] of current) {
      if (!connected.has(gw) || connected.get(gw)!.connectedAt !== c.connectedAt) {
        publish({
          event: 'gateway',
          data: { gateway: gw, connected: true, remote: c.remote, at: c.connectedAt },
        });
      }
    }
    for (const gw of connected.keys()) {
      if (!current.has(gw)) {
        publish({
          event: 'gateway',
          data: { gateway: gw, connected: false, at: new Date(now).toISOString() },
        });
      }
    }
    connected = current;
    latest = {
      at: new Date(now).toISOString(),
      events_per_sec: Math.round(total * 100) / 100,
      gateways,
      gateways_connected: current.size,
    };
    publish({ event: 'stats', data: latest });
  }

  return {
    /** Receives every message until the returned function is called. */
    subscribe(send: (m: LiveMessage) => void): () => void {
      subscribers.add(send);
      if (subscribers.size === 1) {
        deps.changes.on('alert', onAlert);
        connected = new Map(deps.connections().map((c) => [c.gateway, c]));
        timer = setInterval(() => void tick().catch(() => undefined), intervalMs);
        timer.unref();
        void tick().catch(() => undefined);
      }
      return () => {
        subscribers.delete(send);
        if (subscribers.size > 0) return;
        deps.changes.off('alert', onAlert);
        clearInterval(timer);
        timer = undefined;
        last = undefined;
      };
    },
    latest: () => latest,
    stop(): void {
      subscribers.clear();
      deps.changes.off('alert', onAlert);
      clearInterval(timer);
    },
  };
}

export type LiveHub = ReturnType<typeof createLiveHub>;

export function streamApi(hub: LiveHub, heartbeatMs = HEARTBEAT_INTERVAL_MS) {
  const api = new Hono();
  api.get('/stream', requirePermission('read'), (c) => {
    c.header('cache-control', 'no-store');
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, async (stream) => {
      let closed = false;
      const queue: LiveMessage[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = hub.subscribe((m) => {
        queue.push(m);
        wake?.();
      });
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      try {
        await stream.write(': connected\n\n');
        while (!closed) {
          while (queue.length > 0 && !closed) {
            const m = queue.shift()!;
            await stream.writeSSE({ event: m.event, data: JSON.stringify(m.data) });
          }
          if (closed) break;
          const woke = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), heartbeatMs);
            wake = () => {
              clearTimeout(t);
              resolve(true);
            };
          });
          wake = undefined;
          if (!woke && !closed) await stream.write(': heartbeat\n\n');
        }
      } finally {
        unsubscribe();
      }
    });
  });
  return api;
}
