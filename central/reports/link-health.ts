/**
 * The gateway part of a report: per gateway of the scope, its enrolment status and last contact
 * (`gateways`), events, its own health events (queue evictions when the disk cap was reached,
 * input refused when only alerts fitted, queue write errors), the clock-skew events central raised
 * about it, and its link outages with the events buffered at the edge and drained after.
 *
 * Outages are measured, not guessed: an event of a gateway received (its clock offset corrected,
 * as for the delivery lag; the gateway's last measured offset when the event has none) at a time
 * after which central stored nothing at all of that gateway for more than `buffered_after_secs`
 * waited while the link was down. Events late for other reasons are not outages: the old lines
 * of a file backlog, or events queued behind a backlog draining or behind a busier lane, are late
 * while central keeps storing the gateway's other events (whatever their `ts`), and a re-sent
 * batch keeps its first storing time. The events waiting for the same first delivery after such
 * a silence ("link back") form one outage: it starts at the first one's receipt, ends at that
 * delivery, and is drained when the last one was stored. Deliveries are read from the events
 * received within MARGIN_HOURS of the period, by the block range index on `received`. Central keeps
 * no record of link sessions (central/link) to read them from instead.
 */
import type { SqlExecutor } from '../store/sql-client.ts';
import type { Period } from './period.ts';

export interface GatewayHealth {
  id: string;
  status: string;
  last_seen: string | null;
  events: number;
  health_events: number;
  evicted_events: number;
  refused_events: number;
  write_errors: number;
  clock_skew_events: number;
  outages: number;
  outage_secs: number;
  buffered_events: number;
  max_delay_secs: number;
}

export interface Outage {
  gateway: string;
  start: string;
  restored: string;
  drained: string;
  buffered_events: number;
  max_delay_secs: number;
}

export interface GatewayQueryOptions {
  sql: SqlExecutor;
  period: Period;
  /** The site's gateways; null for the fleet. */
  scope: { gateways: string[] | null };
  bufferedAfterSecs: number;
  centralId: string;
}

/** How far around the period events are read for the deliveries that end or interrupt a silence. */
const MARGIN_HOURS = 1;

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
const num = (v: unknown) => Number(v ?? 0);

export async function collectGateways(o: GatewayQueryOptions) {
  const { sql, period, scope } = o;
  const from = period.start.toISOString();
  const to = period.end.toISOString();
  const gws = scope.gateways;
  const [registered, counts, health, skew, outages] = await Promise.all([
    sql.query<{ id: string; status: string; last_ms: number | null }>(
      `SELECT id, status, (extract(epoch FROM last_seen_at) * 1000)::float8 AS last_ms FROM gateways
        WHERE ($1::text[] IS NULL OR id = ANY($1::text[])) ORDER BY id`,
      [gws],
    ),
    sql.query<{ gateway: string; n: number }>(
      `SELECT gateway, count(*)::int AS n FROM events
        WHERE ts >= $1::timestamptz AND ts < $2::timestamptz AND source <> 'central'
          AND ($3::text[] IS NULL OR gateway = ANY($3::text[]))
        GROUP BY gateway`,
      [from, to, gws],
    ),
    sql.query<{
      gateway: string;
      action: string;
      n: number;
      evicted: number;
      refused: number;
      failures: number;
    }>(
      `SELECT gateway, action, count(*)::int AS n,
              sum(coalesce((fields->'evicted'->'telemetry'->>'events')::float8, 0)
                + coalesce((fields->'evicted'->'security'->>'events')::float8, 0))::float8 AS evicted,
              sum(coalesce((fields->>'refused')::float8, 0))::float8 AS refused,
              sum(coalesce((fields->>'failures')::float8, 0))::float8 AS failures
         FROM events
        WHERE ts >= $1::timestamptz AND ts < $2::timestamptz AND source = 'gateway' AND kind = 'health'
          AND ($3::text[] IS NULL OR gateway = ANY($3::text[]))
        GROUP BY gateway, action`,
      [from, to, gws],
    ),
    sql.query<{ gateway: string; n: number }>(
      `SELECT fields->>'gateway_id' AS gateway, count(*)::int AS n FROM events
        WHERE ts >= $1::timestamptz AND ts < $2::timestamptz AND source = 'central' AND action = 'central.clock_skew'
          AND ($3::text[] IS NULL OR fields->>'gateway_id' = ANY($3::text[]))
        GROUP BY 1`,
      [from, to, gws],
    ),
    sql.query<{
      gateway: string;
      start_ms: number;
      restored_ms: number;
      drained_ms: number;
      n: number;
      max_delay: number;
    }>(
      `WITH e AS (
         SELECT e.gateway, e.stored_at, e.received
                  - make_interval(secs => coalesce(e.clock_offset_ms, g.clock_offset_ms, 0) / 1000.0) AS rc
           FROM events e LEFT JOIN gateways g ON g.id = e.gateway
          WHERE e.received >= $1::timestamptz - interval '${MARGIN_HOURS} hours'
            AND e.received < $2::timestamptz + interval '${MARGIN_HOURS} hours'
            AND e.source <> 'central' AND ($3::text[] IS NULL OR e.gateway = ANY($3::text[]))
       ), late AS (
         SELECT gateway, rc, stored_at, extract(epoch FROM stored_at - rc)::float8 AS delay
           FROM e WHERE rc >= $1::timestamptz AND rc < $2::timestamptz
            AND stored_at - rc > make_interval(secs => $4::float8)
       ), span AS (
         -- Only deliveries between a late event's receipt and its storing can end or interrupt a silence.
         SELECT gateway, min(rc) AS lo, max(stored_at) AS hi FROM late GROUP BY gateway
       ), points AS (
         SELECT gateway, rc AS t, 0 AS delivery, stored_at, delay FROM late
         UNION ALL
         SELECT e.gateway, min(e.stored_at), 1, NULL, NULL
           FROM e JOIN span s ON s.gateway = e.gateway AND e.stored_at >= s.lo AND e.stored_at <= s.hi
          GROUP BY e.gateway, floor(extract(epoch FROM e.stored_at))
       ), held AS (
         SELECT gateway, t AS rc, stored_at, delay,
                min(CASE WHEN delivery = 1 THEN t END)
                  OVER (PARTITION BY gateway ORDER BY t DESC, delivery DESC ROWS UNBOUNDED PRECEDING) AS back
           FROM points
       )
       SELECT gateway, (extract(epoch FROM min(rc)) * 1000)::float8 AS start_ms,
              (extract(epoch FROM back) * 1000)::float8 AS restored_ms,
              (extract(epoch FROM max(stored_at)) * 1000)::float8 AS drained_ms,
              count(*)::int AS n, max(delay)::float8 AS max_delay
         FROM held WHERE stored_at IS NOT NULL AND back - rc > make_interval(secs => $4::float8)
        GROUP BY gateway, back ORDER BY gateway, start_ms`,
      [from, to, gws, o.bufferedAfterSecs],
    ),
  ]);

  const ids = new Set<string>([...(gws ?? []), ...registered.rows.map((r) => r.id)]);
  for (const r of counts.rows) if (r.gateway !== o.centralId) ids.add(r.gateway);
  const reg = new Map(registered.rows.map((r) => [r.id, r]));
  const count = new Map(counts.rows.map((r) => [r.gateway, num(r.n)]));
  const skewBy = new Map(skew.rows.map((r) => [r.gateway, num(r.n)]));
  const outageList: Outage[] = outages.rows.map((r) => ({
    gateway: r.gateway,
    start: iso(r.start_ms),
    restored: iso(r.restored_ms),
    drained: iso(r.drained_ms),
    buffered_events: num(r.n),
    max_delay_secs: Math.round(num(r.max_delay)),
  }));
  const gateways: GatewayHealth[] = [...ids].sort().map((id) => {
    const h = health.rows.filter((r) => r.gateway === id);
    const mine = outageList.filter((x) => x.gateway === id);
    const r = reg.get(id);
    return {
      id,
      status: r?.status ?? 'not enrolled',
      last_seen: r?.last_ms ? iso(r.last_ms) : null,
      events: count.get(id) ?? 0,
      health_events: h.reduce((s, x) => s + num(x.n), 0),
      evicted_events: h.reduce((s, x) => s + num(x.evicted), 0),
      refused_events: h.reduce((s, x) => s + num(x.refused), 0),
      write_errors: h.reduce((s, x) => s + num(x.failures), 0),
      clock_skew_events: skewBy.get(id) ?? 0,
      outages: mine.length,
      outage_secs: Math.round(
        mine.reduce((s, x) => s + (Date.parse(x.restored) - Date.parse(x.start)) / 1000, 0),
      ),
      buffered_events: mine.reduce((s, x) => s + x.buffered_events, 0),
      max_delay_secs: mine.reduce((s, x) => Math.max(s, x.max_delay_secs), 0),
    };
  });
  return { gateways, outages: outageList };
}
