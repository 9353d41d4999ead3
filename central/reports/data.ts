/**
 * What a report says, read from where central keeps it, for one period and one scope (the fleet,
 * or the gateways of one site):
 *   - alerts raised in the period (`alerts.first_seen` in it) by severity, ATT&CK technique and
 *     device, and over time; a site's are those of its gateways or carrying its name;
 *   - events over time, top talkers (source addresses) and busiest devices (`events`);
 *   - devices first seen in the period (`devices`, the inventory);
 *   - per gateway: enrolment status and last contact (`gateways`), its own health events
 *     (queue evictions, refusals, write errors: `kind = 'health'`), clock-skew events central
 *     raised about it, and link outages with the events buffered at the edge and drained after.
 * The gateway part (health, outages, buffered and drained) is link-health.ts.
 */
import type { SqlExecutor } from '../store/sql-client.ts';
import { collectGateways, type GatewayHealth, type Outage } from './link-health.ts';
import { localFields, localMidnight, type Period } from './period.ts';

export type { GatewayHealth, Outage };

export const SEVERITY_NAMES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'info',
  'debug',
];

export interface ReportScope {
  /** 'fleet' or the site's name. */
  name: string;
  title: string;
  /** The site's gateways; null for the fleet. */
  gateways: string[] | null;
}

export interface Bucket {
  start: string;
  count: number;
}

export interface ReportData {
  scope: ReportScope;
  period: { kind: Period['kind']; start: string; end: string; time_zone: string; label: string };
  generated_at: string;
  totals: {
    alerts: number;
    alert_hits: number;
    /** Distinct devices or hosts the alerts are about. */
    alert_entities: number;
    events: number;
    new_devices: number;
    gateways: number;
    incidents: number;
    outages: number;
    outage_secs: number;
    buffered_events: number;
    evicted_events: number;
  };
  alerts_by_severity: Array<{ severity: number; name: string; alerts: number; hits: number }>;
  alerts_by_technique: Array<{ technique: string; alerts: number; hits: number }>;
  alerts_by_device: Array<{ entity: string; alerts: number; hits: number; worst_severity: number }>;
  alerts_over_time: Bucket[];
  top_alerts: Array<{
    id: number;
    rule_title: string;
    severity: number;
    entity: string;
    gateway: string | null;
    count: number;
    first_seen: string;
    status: string;
  }>;
  events_over_time: Bucket[];
  /** Incidents (alerts folded by attacker) opened in the period with a child alert of the scope. */
  incidents: Array<{
    id: number;
    title: string;
    attacker: string;
    severity: number;
    alert_count: number;
    status: string;
    first_seen: string;
  }>;
  top_talkers: Array<{ ip: string; events: number; destinations: number; alerts: number }>;
  top_devices: Array<{ device_id: string; events: number }>;
  new_devices: Array<{
    device_id: string;
    name: string | null;
    protocols: string[];
    gateways: string[];
    first_seen: string;
  }>;
  gateways: GatewayHealth[];
  outages: Outage[];
}

export interface ReportDataOptions {
  sql: SqlExecutor;
  period: Period;
  label: string;
  scope: ReportScope;
  bufferedAfterSecs: number;
  centralId: string;
  now: Date;
}

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
const num = (v: unknown) => Number(v ?? 0);
const TOP = 15;

/** Bucket boundaries: hours for a day, local days for longer periods (at most 62 buckets). */
export function bucketEdges(period: Period): number[] {
  const start = period.start.getTime();
  const end = period.end.getTime();
  const span = end - start;
  const step = span <= 2 * 86_400_000 ? 3_600_000 : span <= 62 * 86_400_000 ? 86_400_000 : span / 62;
  const edges: number[] = [];
  // Whole local days for a week: walk midnights rather than adding 24 h across a DST change.
  if (step === 86_400_000) {
    let t = start;
    edges.push(t);
    while (t < end) {
      // A day is 23 to 25 hours; never less than one hour, so the walk always ends.
      t = Math.min(Math.max(nextLocalMidnight(t, period.timeZone), t + 3_600_000), end);
      edges.push(t);
    }
    return edges;
  }
  for (let t = start; t < end; t += step) edges.push(t);
  edges.push(end);
  return edges;
}

function nextLocalMidnight(ms: number, timeZone: string): number {
  const f = localFields(ms, timeZone);
  const next = new Date(Date.UTC(f.year, f.month - 1, f.day + 1));
  return localMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone).getTime();
}

function fillBuckets(edges: number[], rows: Array<{ b: number; n: number }>): Bucket[] {
  const found = new Map(rows.map((r) => [num(r.b), num(r.n)]));
  return edges.slice(0, -1).map((t, i) => ({ start: iso(t), count: found.get(i + 1) ?? 0 }));
}

export async function collectReportData(o: ReportDataOptions): Promise<ReportData> {
  const { sql, period, scope } = o;
  const from = period.start.toISOString();
  const to = period.end.toISOString();
  const gws = scope.gateways;
  const site = scope.gateways ? scope.name : null;
  const edges = bucketEdges(period);
  const epochs = edges.map((t) => t / 1000);
  // Alerts of the scope: of its gateways, or carrying the site's name.
  const alertScope = `($3::text[] IS NULL OR gateway = ANY($3::text[]) OR site = $4)`;
  const alertArgs = [from, to, gws, site];
  const eventScope = `ts >= $1::timestamptz AND ts < $2::timestamptz AND source <> 'central' AND ($3::text[] IS NULL OR gateway = ANY($3::text[]))`;

  const [
    entities,
    bySeverity,
    byTechnique,
    byDevice,
    alertsTime,
    topAlerts,
    eventsTime,
    talkers,
    devicesTop,
    newDevices,
  ] = await Promise.all([
    sql.query<{ n: number }>(
      `SELECT count(DISTINCT entity)::int AS n FROM alerts
          WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz AND ${alertScope}`,
      alertArgs,
    ),
    sql.query<{ severity: number; alerts: number; hits: number }>(
      `SELECT severity, count(*)::int AS alerts, sum(count)::float8 AS hits FROM alerts
          WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz AND ${alertScope}
          GROUP BY severity ORDER BY severity`,
      alertArgs,
    ),
    sql.query<{ technique: string; alerts: number; hits: number }>(
      `SELECT t AS technique, count(*)::int AS alerts, sum(count)::float8 AS hits
           FROM alerts, unnest(techniques) AS t
          WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz AND ${alertScope}
          GROUP BY t ORDER BY alerts DESC, t LIMIT ${TOP}`,
      alertArgs,
    ),
    sql.query<{ entity: string; alerts: number; hits: number; worst: number }>(
      `SELECT entity, count(*)::int AS alerts, sum(count)::float8 AS hits, min(severity)::int AS worst
           FROM alerts
          WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz AND ${alertScope}
          GROUP BY entity ORDER BY alerts DESC, entity LIMIT ${TOP}`,
      alertArgs,
    ),
    sql.query<{ b: number; n: number }>(
      `SELECT width_bucket(extract(epoch FROM first_seen)::float8, $5::float8[]) AS b, count(*)::int AS n
           FROM alerts
          WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz AND ${alertScope}
          GROUP BY b`,
      [...alertArgs, epochs],
    ),
    sql.query<{
      id: number;
      rule_title: string;
      severity: number;
      entity: string;
      gateway: string | null;
      count: number;
      first_ms: number;
      status: string;
    }>(
      `SELECT id::int AS id, rule_title, severity, entity, gateway, count,
                (extract(epoch FROM first_seen) * 1000)::float8 AS first_ms, status
           FROM alerts
          WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz AND ${alertScope}
          ORDER BY severity, count DESC, id LIMIT 20`,
      alertArgs,
    ),
    sql.query<{ b: number; n: number }>(
      `SELECT width_bucket(extract(epoch FROM ts)::float8, $4::float8[]) AS b, count(*)::int AS n
           FROM events WHERE ${eventScope} GROUP BY b`,
      [from, to, gws, epochs],
    ),
    sql.query<{ ip: string; events: number; destinations: number }>(
      `SELECT src_ip AS ip, count(*)::int AS events, count(DISTINCT dst_ip)::int AS destinations
           FROM events WHERE ${eventScope} AND src_ip IS NOT NULL
          GROUP BY src_ip ORDER BY events DESC, src_ip LIMIT ${TOP}`,
      [from, to, gws],
    ),
    sql.query<{ device_id: string; events: number }>(
      `SELECT device_id, count(*)::int AS events
           FROM events WHERE ${eventScope} AND device_id IS NOT NULL
          GROUP BY device_id ORDER BY events DESC, device_id LIMIT ${TOP}`,
      [from, to, gws],
    ),
    sql.query<{
      device_id: string;
      name: string | null;
      protocols: string[];
      gateways: string[];
      first_ms: number;
    }>(
      `SELECT device_id, name, protocols, gateways, (extract(epoch FROM first_seen) * 1000)::float8 AS first_ms
           FROM devices
          WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz
            AND ($3::text[] IS NULL OR gateways && $3::text[])
          ORDER BY first_seen, device_id`,
      [from, to, gws],
    ),
  ]);

  // Alerts per talker: alerts whose triggering events came from that address.
  const talkerIps = talkers.rows.map((r) => r.ip);
  // Event ids are `<gateway>:<seq>`: joined on (gateway, seq) and the time range, the unique index serves it.
  const talkerAlerts = talkerIps.length
    ? await sql.query<{ ip: string; n: number }>(
        `SELECT e.src_ip AS ip, count(DISTINCT a.id)::int AS n
           FROM alerts a
           CROSS JOIN LATERAL unnest(a.event_ids) AS x(eid)
           JOIN events e ON e.gateway = substring(x.eid FROM '^(.*):[0-9]+$')
                        AND e.seq = substring(x.eid FROM ':([0-9]+)$')::bigint
                        AND e.ts >= $1::timestamptz - interval '1 day' AND e.ts < $2::timestamptz
          WHERE a.first_seen >= $1::timestamptz AND a.first_seen < $2::timestamptz
            AND ($3::text[] IS NULL OR a.gateway = ANY($3::text[]) OR a.site = $4)
            AND e.src_ip = ANY($5::text[])
          GROUP BY e.src_ip`,
        [...alertArgs, talkerIps],
      )
    : { rows: [] };
  const incidents = await sql.query<{
    id: number;
    title: string;
    attacker: string;
    severity: number;
    alert_count: number;
    status: string;
    first_ms: number;
  }>(
    `SELECT i.id::int AS id, i.title, i.attacker, i.severity, i.alert_count, i.status,
            (extract(epoch FROM i.first_seen) * 1000)::float8 AS first_ms
       FROM incidents i
      WHERE i.first_seen >= $1::timestamptz AND i.first_seen < $2::timestamptz
        AND EXISTS (SELECT 1 FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id
                     WHERE ia.incident_id = i.id
                       AND ($3::text[] IS NULL OR a.gateway = ANY($3::text[]) OR a.site = $4))
      ORDER BY i.severity, i.alert_count DESC, i.id LIMIT 50`,
    alertArgs,
  );
  const alertsByIp = new Map(talkerAlerts.rows.map((r) => [r.ip, num(r.n)]));

  const gatewayHealth = await collectGateways(o);
  const severityRows = bySeverity.rows.map((r) => ({
    severity: num(r.severity),
    name: SEVERITY_NAMES[num(r.severity)] ?? String(r.severity),
    alerts: num(r.alerts),
    hits: num(r.hits),
  }));
  const eventsOverTime = fillBuckets(edges, eventsTime.rows);
  return {
    scope,
    period: { kind: period.kind, start: from, end: to, time_zone: period.timeZone, label: o.label },
    generated_at: o.now.toISOString(),
    totals: {
      alerts: severityRows.reduce((s, r) => s + r.alerts, 0),
      alert_hits: severityRows.reduce((s, r) => s + r.hits, 0),
      alert_entities: num(entities.rows[0]?.n),
      events: eventsOverTime.reduce((s, b) => s + b.count, 0),
      new_devices: newDevices.rows.length,
      gateways: gatewayHealth.gateways.length,
      incidents: incidents.rows.length,
      outages: gatewayHealth.outages.length,
      outage_secs: gatewayHealth.gateways.reduce((s, g) => s + g.outage_secs, 0),
      buffered_events: gatewayHealth.gateways.reduce((s, g) => s + g.buffered_events, 0),
      evicted_events: gatewayHealth.gateways.reduce((s, g) => s + g.evicted_events, 0),
    },
    alerts_by_severity: severityRows,
    alerts_by_technique: byTechnique.rows.map((r) => ({
      technique: r.technique,
      alerts: num(r.alerts),
      hits: num(r.hits),
    })),
    alerts_by_device: byDevice.rows.map((r) => ({
      entity: r.entity,
      alerts: num(r.alerts),
      hits: num(r.hits),
      worst_severity: num(r.worst),
    })),
    alerts_over_time: fillBuckets(edges, alertsTime.rows),
    top_alerts: topAlerts.rows.map((r) => ({
      id: num(r.id),
      rule_title: r.rule_title,
      severity: num(r.severity),
      entity: r.entity,
      gateway: r.gateway,
      count: num(r.count),
      first_seen: iso(r.first_ms),
      status: r.status,
    })),
    events_over_time: eventsOverTime,
    incidents: incidents.rows.map((r) => ({
      id: num(r.id),
      title: r.title,
      attacker: r.attacker,
      severity: num(r.severity),
      alert_count: num(r.alert_count),
      status: r.status,
      first_seen: iso(r.first_ms),
    })),
    top_talkers: talkers.rows.map((r) => ({
      ip: r.ip,
      events: num(r.events),
      destinations: num(r.destinations),
      alerts: alertsByIp.get(r.ip) ?? 0,
    })),
    top_devices: devicesTop.rows.map((r) => ({ device_id: r.device_id, events: num(r.events) })),
    new_devices: newDevices.rows.map((r) => ({
      device_id: r.device_id,
      name: r.name,
      protocols: r.protocols,
      gateways: r.gateways,
      first_seen: iso(r.first_ms),
    })),
    gateways: gatewayHealth.gateways,
    outages: gatewayHealth.outages,
  };
}
