/**
 * Live updates for the SOC dashboard, `GET /api/stream` as server-sent events
 * (server-shared/web-auth/SPEC.md §5, `read` permission): `alert` with every new or changed alert
 * (from the alerts' change emitter, after commit), `stats` every 2 s (events stored per second,
 * overall and per gateway, and gateways connected), `gateway` when one connects or disconnects,
 * and a `: heartbeat` comment every 15 s so proxies keep the connection open. One hub per
 * central computes the stats once for every subscriber, and only while someone listens.
 * Streams are capped in total and per user (429 beyond), each client's queue is bounded (the
 * oldest messages are dropped and a `dropped` event says how many), and a client that stops
 * reading is disconnected after `stall_timeout_secs` (stream-limits.ts).
 */
import type { EventEmitter } from 'node:events';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { apiError } from '../../server-shared/http-errors.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type { Alert } from '../alerts/types.ts';
import type { GatewayConnection } from '../link/server.ts';
import type { CentralMetrics } from '../metrics.ts';
import {
  createStreamSlots,
  DEFAULT_STREAM_CONFIG,
  type StreamConfig,
  type StreamSlots,
  streamOwner,
} from './stream-limits.ts';

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

export interface StreamApiOptions extends Partial<StreamConfig> {
  heartbeatMs?: number;
  /** Shared slot counter (tests inspect it); one is made from the limits when absent. */
  slots?: StreamSlots;
}

/** Resolves true when `write` finished within `ms`, false when it still hangs (a stalled client). */
async function within(write: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([write.then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function streamApi(hub: LiveHub, options: StreamApiOptions = {}) {
  const limits = { ...DEFAULT_STREAM_CONFIG, ...options };
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
  const stallMs = limits.stall_timeout_secs * 1000;
  const slots = options.slots ?? createStreamSlots(limits);
  const api = new Hono();
  api.get('/stream', requirePermission('read'), (c) => {
    const acquired = slots.acquire(streamOwner(c.get('auth')));
    if (!acquired.ok) {
      throw apiError(429, 'too_many_requests', acquired.error, { headers: { 'retry-after': '10' } });
    }
    const { slot } = acquired;
    c.header('cache-control', 'no-store');
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, async (stream) => {
      let closed = false;
      // Bounded: a client slower than the messages loses the oldest ones (a newer `stats`
      // supersedes an older one; an alert's later change carries its whole state), and is told.
      const queue: LiveMessage[] = [];
      let unreported = 0;
      let wake: (() => void) | undefined;
      const unsubscribe = hub.subscribe((m) => {
        if (queue.length >= limits.max_queued_messages) {
          queue.shift();
          unreported += 1;
          slot.dropped += 1;
        }
        queue.push(m);
        slot.queued = queue.length;
        wake?.();
      });
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      // A client that takes nothing for stallMs is cut off: its socket goes (node server), which
      // also ends the write that hangs on it, and its slot with it.
      const write = async (text: string) => {
        if (await within(stream.write(text), stallMs)) return;
        closed = true;
        const socket = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming
          ?.socket;
        socket?.destroy();
        stream.abort();
      };
      const sse = (event: string, data: unknown) =>
        write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      try {
        await write(': connected\n\n');
        while (!closed) {
          while ((queue.length > 0 || unreported > 0) && !closed) {
            if (unreported > 0) {
              const dropped = unreported;
              unreported = 0;
              await sse('dropped', { dropped, dropped_total: slot.dropped });
              continue;
            }
            const m = queue.shift()!;
            slot.queued = queue.length;
            await sse(m.event, m.data);
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
          if (!woke && !closed) await write(': heartbeat\n\n');
        }
      } finally {
        unsubscribe();
        slot.release();
      }
    });
  });
  return api;
}
