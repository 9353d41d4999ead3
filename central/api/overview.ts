/**
 * What the SOC dashboard's overview and gateway pages ask for in one request each:
 * `GET /api/overview?range=1h|6h|24h|7d` (event rate over time, alerts by severity, status and
 * ATT&CK technique, top devices and hosts, gateways online or lagging) and `GET /api/fleet`
 * (every enrolled gateway with its connection, software version, delivery lag, event rate and
 * queue depth by lane as its last link heartbeat reported it, link SPEC §5.5).
 * Delivery lag is how long the newest events took from the gateway's receipt to central's
 * commit, corrected by the gateway's measured clock offset: a gateway draining a backlog after
 * an outage shows a large lag until it has caught up. Both need the `read` permission.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type * as Api from '../../protocols/api/central.ts';
import type { Wire } from '../../protocols/api/wire.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { GatewayConnection } from '../link/server.ts';
import type { SqlExecutor } from '../store/sql-client.ts';
import type { EventStore } from '../store/types.ts';
import { parseQuery } from './search-params.ts';
import type { LiveHub } from './stream.ts';

/** Range → [length in ms, histogram bucket in ms]. */
export const OVERVIEW_RANGES: Record<string, [number, number]> = {
  '1h': [3_600_000, 60_000],
  '6h': [21_600_000, 300_000],
  '24h': [86_400_000, 900_000],
  '7d': [7 * 86_400_000, 3_600_000],
};
/** A connected gateway whose newest events took longer than this to arrive is lagging. */
export const LAGGING_MS = 60_000;
/** Events stored in this window count towards the delivery lag. */
const LAG_WINDOW_MS = 5 * 60_000;

export const overviewQuery = z.strictObject({
  range: z.enum(Object.keys(OVERVIEW_RANGES) as [string, ...string[]]).default('24h'),
});

export interface OverviewDeps {
  store: EventStore;
  registry: GatewayRegistry;
  connections: () => GatewayConnection[];
  hub: LiveHub;
  now?: () => Date;
}

export interface GatewayLag {
  gateway: string;
  lag_ms: number;
  events_5m: number;
  last_received: string;
}

/** Delivery lag per gateway over the events stored in the last five minutes. */
export async function gatewayLags(sql: SqlExecutor, now: Date): Promise<Map<string, GatewayLag>> {
  const { rows } = await sql.query<{ gateway: string; lag_ms: number | string; n: number; last: string }>(
    `SELECT gateway,
            round(extract(epoch FROM max(stored_at - (received - make_interval(secs => coalesce(clock_offset_ms, 0) / 1000.0)))) * 1000) AS lag_ms,
            count(*)::int AS n,
            to_char(max(received) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last
       FROM events
      WHERE ts >= $1::timestamptz AND stored_at >= $2::timestamptz AND source <> 'central'
      GROUP BY gateway`,
    [
      new Date(now.getTime() - 6 * 3_600_000).toISOString(),
      new Date(now.getTime() - LAG_WINDOW_MS).toISOString(),
    ],
  );
  return new Map(
    rows.map((r) => [
      r.gateway,
      {
        gateway: r.gateway,
        lag_ms: Math.max(0, Number(r.lag_ms)),
        events_5m: Number(r.n),
        last_received: r.last,
      },
    ]),
  );
}

export function overviewApi(deps: OverviewDeps) {
  const now = deps.now ?? (() => new Date());
  const api = new Hono();
  const sql = deps.store.sql;

  api.get('/overview', requirePermission('read'), async (c) => {
    const q = parseQuery(overviewQuery, c.req.query());
    const [rangeMs, bucketMs] = OVERVIEW_RANGES[q.range]!;
    const to = now();
    const from = new Date(Math.floor((to.getTime() - rangeMs) / bucketMs) * bucketMs);
    const filter = { from, to };
    const [histogram, topDevices, topHosts, bySeverity, byTechnique, byStatus, lags, gateways] =
      await Promise.all([
        deps.store.histogram(filter, bucketMs),
        deps.store.topValues(filter, 'device_id', 10),
        deps.store.topValues(filter, 'host', 10),
        sql.query<{ severity: number; n: number }>(
          `SELECT severity, count(*)::int AS n FROM alerts WHERE last_seen >= $1::timestamptz GROUP BY severity ORDER BY severity`,
          [from.toISOString()],
        ),
        sql.query<{ technique: string; n: number }>(
          `SELECT t AS technique, count(*)::int AS n FROM alerts, unnest(techniques) AS t
          WHERE last_seen >= $1::timestamptz GROUP BY t ORDER BY n DESC, t LIMIT 15`,
          [from.toISOString()],
        ),
        sql.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM alerts WHERE last_seen >= $1::timestamptz GROUP BY status`,
          [from.toISOString()],
        ),
        gatewayLags(sql, to),
        deps.registry.list(),
      ]);
    const found = new Map(histogram.map((b) => [b.start.getTime(), b.count]));
    const buckets: Array<{ start: string; count: number }> = [];
    for (let t = from.getTime(); t < to.getTime(); t += bucketMs) {
      buckets.push({ start: new Date(t).toISOString(), count: found.get(t) ?? 0 });
    }
    const connected = new Set(deps.connections().map((g) => g.gateway));
    const active = gateways.filter((g) => g.status === 'active');
    const lagging = active.filter((g) => connected.has(g.id) && (lags.get(g.id)?.lag_ms ?? 0) > LAGGING_MS);
    return c.json({
      from: from.toISOString(),
      to: to.toISOString(),
      range: q.range,
      interval_ms: bucketMs,
      events: { total: buckets.reduce((s, b) => s + b.count, 0), buckets },
      live: deps.hub.latest(),
      alerts: {
        by_severity: bySeverity.rows.map((r) => ({ severity: Number(r.severity), count: r.n })),
        by_technique: byTechnique.rows.map((r) => ({ technique: r.technique, count: r.n })),
        by_status: Object.fromEntries(byStatus.rows.map((r) => [r.status, r.n])),
      },
      top_devices: topDevices,
      top_hosts: topHosts,
      gateways: {
        enrolled: active.length,
        online: active.filter((g) => connected.has(g.id)).length,
        offline: active.filter((g) => !connected.has(g.id)).map((g) => g.id),
        lagging: lagging.map((g) => ({ id: g.id, lag_ms: lags.get(g.id)!.lag_ms })),
      },
    } satisfies Api.Overview);
  });

  api.get('/fleet', requirePermission('read'), async (c) => {
    const to = now();
    const [gateways, lags] = await Promise.all([deps.registry.list(), gatewayLags(sql, to)]);
    const live = new Map(deps.connections().map((g) => [g.gateway, g]));
    const rates = deps.hub.latest().gateways;
    return c.json({
      lagging_ms: LAGGING_MS,
      gateways: gateways.map((g) => {
        const conn = live.get(g.id);
        const lag = lags.get(g.id);
        return {
          id: g.id,
          status: g.status,
          connected: conn !== undefined,
          connected_since: conn?.connectedAt.toISOString() ?? null,
          remote: conn?.remote ?? null,
          software: conn?.software ?? null,
          enrolled_at: g.enrolledAt,
          revoked_at: g.revokedAt,
          last_seen_at: conn ? conn.lastSeen.toISOString() : g.lastSeenAt,
          clock_offset_ms: g.clockOffsetMs,
          lag_ms: lag?.lag_ms ?? null,
          events_5m: lag?.events_5m ?? 0,
          last_event_received: lag?.last_received ?? null,
          events_per_sec: rates[g.id] ?? 0,
          lagging: conn !== undefined && (lag?.lag_ms ?? 0) > LAGGING_MS,
          // Only while connected: a disconnected gateway's last report says nothing of now.
          queue: conn?.queue
            ? {
                events: conn.queue.events,
                bytes: conn.queue.bytes,
                by_lane: conn.queue.by_lane,
                reported_at: conn.queue.reportedAt.toISOString(),
              }
            : null,
        };
      }),
    } satisfies Wire<Api.Fleet>);
  });
  return api;
}
