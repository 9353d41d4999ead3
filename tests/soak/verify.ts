/**
 * The soak's accounting, in SQL on central's own database once the run is over: every load message
 * central stored is found by the connection and index it carries (types.ts) and compared with what
 * the load generator says it sent on that connection. What each protocol guarantees decides what
 * a missing message means:
 * - syslog over TCP has no acknowledgement: lines in the socket or in the gateway's memory when it
 *   is killed are lost, and only those: a tail of a connection the kill cut. A hole, or a loss on a
 *   connection no kill cut, is a loss.
 * - MQTT QoS 1: a publish the broker acknowledged was durable (PUBACK after the queue write), so it
 *   must be stored; one never acknowledged (the connection died first) may be stored once or not.
 * - Modbus reads through the proxy: like TCP syslog (the proxy answers before its events are
 *   durable): only a tail of a connection the kill cut may be missing.
 * - syslog over UDP: no guarantee at all; what is missing is counted, never a failure.
 * Nothing may be stored twice, in any stream. The gateway's own sequence must run 1..N without a
 * gap or a repeat: everything the queue accepted reached central exactly once.
 */
import { type ConnRecord, MODBUS_INDEX_SQL, type Stream, STREAMS } from './types.ts';

export type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

export interface StreamAccount {
  stream: Stream;
  connections: number;
  sent: number;
  stored: number;
  duplicates: number;
  /** Lost where the protocol promises delivery: a failure. */
  lost: number;
  /** Missing, and allowed by the protocol at a gateway kill (TCP tail, MQTT unacknowledged). */
  atKill: number;
  /** UDP only: missing datagrams (no guarantee); of them, sent while no gateway listened. */
  udpMissing?: number;
  udpSentWhileDown?: number;
  /** UDP: stored datagrams sent after the kill notice (at least what the new gateway received). */
  udpStoredAfterKill?: number;
  /** MQTT: publishes never acknowledged (at most once), and of those how many were stored. */
  unacked?: number;
  unackedStored?: number;
  /** Stored messages whose index the generator never sent (an accounting bug): a failure. */
  unknown: number;
  /** Modbus: responses received by the masters. */
  answered?: number;
  /** A few of the lost ones, `<conn>.<i>`, for the report. */
  examples: string[];
}

export interface SequenceAccount {
  stored: number;
  distinct: number;
  max: number;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Builds the table of stored load messages: (stream, conn, i), one row per stored event. */
export async function collectStored(q: Query, gatewayId: string, modbusAddress: string): Promise<void> {
  const gw = lit(gatewayId);
  await q('DROP TABLE IF EXISTS soak_seen');
  await q(`CREATE TEMP TABLE soak_seen AS
    SELECT CASE m[1] WHEN 'T' THEN 'tcp' ELSE 'udp' END AS stream, m[2]::bigint AS conn, m[3]::bigint AS i
      FROM (SELECT regexp_match(message, 'soak=([TU])(\\d+)\\.(\\d+)') AS m
              FROM events WHERE gateway = ${gw} AND source = 'syslog') s
     WHERE m IS NOT NULL
    UNION ALL
    SELECT 'mqtt', m[1]::bigint, m[2]::bigint
      FROM (SELECT regexp_match(fields->'values'->>'seq', '^M(\\d+)\\.(\\d+)$') AS m
              FROM events WHERE gateway = ${gw} AND action = 'mqtt.telemetry') s
     WHERE m IS NOT NULL
    UNION ALL
    SELECT 'modbus', src_port::bigint, ${MODBUS_INDEX_SQL}
      FROM (SELECT src_port, (fields->>'transaction_id')::bigint AS tid,
                   (fields->>'address')::bigint AS a, (fields->>'quantity')::bigint AS q
              FROM events
             WHERE gateway = ${gw} AND src_ip = ${lit(modbusAddress)}
               AND action = 'modbus.read_holding_registers' AND fields->>'direction' = 'request') s`);
  await q('CREATE INDEX ON soak_seen (stream, conn, i)');
}

export async function accountStreams(q: Query, conns: ConnRecord[]): Promise<StreamAccount[]> {
  const perConn = await q<{ stream: Stream; conn: string; total: string; distinct: string }>(
    'SELECT stream, conn::text, count(*)::text AS total, count(DISTINCT i)::text AS distinct FROM soak_seen GROUP BY 1, 2',
  );
  const stored = new Map(perConn.map((r) => [`${r.stream}/${r.conn}`, r]));
  const out: StreamAccount[] = [];
  for (const stream of STREAMS) {
    const a: StreamAccount = {
      stream,
      connections: 0,
      sent: 0,
      stored: 0,
      duplicates: 0,
      lost: 0,
      atKill: 0,
      unknown: 0,
      examples: [],
    };
    const mine = conns.filter((c) => c.stream === stream);
    for (const c of mine) {
      a.connections += 1;
      a.sent += c.sent;
      const s = stored.get(`${stream}/${c.conn}`);
      stored.delete(`${stream}/${c.conn}`);
      const total = Number(s?.total ?? 0);
      const distinct = Number(s?.distinct ?? 0);
      a.stored += total;
      a.duplicates += total - distinct;
      const [beyondRow] = await q<{ beyond: string }>(
        `SELECT count(*)::text AS beyond FROM soak_seen WHERE stream = ${lit(stream)} AND conn = ${c.conn} AND (i >= ${c.sent} OR i < 0)`,
      );
      const beyond = Number(beyondRow?.beyond ?? 0);
      a.unknown += beyond;
      if (stream === 'udp') {
        a.udpMissing = (a.udpMissing ?? 0) + (c.sent - (distinct - beyond));
        a.udpSentWhileDown = (a.udpSentWhileDown ?? 0) + (c.sentWhileDown ?? 0);
        const [after] = await q<{ n: string }>(
          `SELECT count(DISTINCT i)::text AS n FROM soak_seen WHERE stream = 'udp' AND conn = ${c.conn} AND i >= ${c.indexAtKill ?? c.sent}`,
        );
        a.udpStoredAfterKill = (a.udpStoredAfterKill ?? 0) + Number(after?.n ?? 0);
        continue;
      }
      if (stream === 'modbus') a.answered = (a.answered ?? 0) + (c.answered ?? 0);
      if (c.sent === 0) continue;
      // The missing indexes of this connection (bounded: a catastrophe needs no full list).
      const missing = (
        await q<{ g: string }>(
          `SELECT g::text FROM (SELECT g FROM generate_series(0::bigint, ${c.sent - 1}::bigint) g
             EXCEPT SELECT i FROM soak_seen WHERE stream = ${lit(stream)} AND conn = ${c.conn}) m
           ORDER BY g LIMIT 200000`,
        )
      )
        .map((r) => Number(r.g))
        .sort((x, y) => x - y);
      if (stream === 'mqtt') {
        const unacked = new Set(c.unacked ?? []);
        a.unacked = (a.unacked ?? 0) + unacked.size;
        let lostHere = 0;
        for (const i of missing) {
          if (unacked.has(i)) a.atKill += 1;
          else {
            lostHere += 1;
            if (a.examples.length < 10) a.examples.push(`${c.conn}.${i}`);
          }
        }
        a.lost += lostHere;
        a.unackedStored = (a.unackedStored ?? 0) + unacked.size - (missing.length - lostHere);
        continue;
      }
      // TCP syslog and Modbus: a tail of a connection the kill cut may be missing, nothing else.
      const firstMissing = missing[0];
      const tail =
        firstMissing !== undefined &&
        c.ended === 'kill' &&
        missing.length === c.sent - firstMissing &&
        missing[missing.length - 1] === c.sent - 1;
      if (tail) a.atKill += missing.length;
      else {
        a.lost += missing.length;
        for (const i of missing.slice(0, Math.max(0, 10 - a.examples.length)))
          a.examples.push(`${c.conn}.${i} (${c.ended})`);
      }
    }
    // Stored messages on a connection the generator does not know.
    for (const [key, s] of stored)
      if (key.startsWith(`${stream}/`)) {
        a.unknown += Number(s.total);
        a.stored += Number(s.total);
      }
    out.push(a);
  }
  return out;
}

/** The gateway's sequence as central stored it: 1..N once each means nothing accepted was lost. */
export async function accountSequence(q: Query, gatewayId: string): Promise<SequenceAccount> {
  const [r] = await q<{ stored: string; distinct: string; max: string }>(
    `SELECT count(*)::text AS stored, count(DISTINCT seq)::text AS distinct, coalesce(max(seq), 0)::text AS max
       FROM events WHERE gateway = ${lit(gatewayId)}`,
  );
  return { stored: Number(r!.stored), distinct: Number(r!.distinct), max: Number(r!.max) };
}

export interface StoredAlert {
  title: string;
  lastSeen: number;
  count: number;
}

/** The alert events the gateway forwarded (one per raise or update of a grouped alert). */
export async function storedAlerts(q: Query, gatewayId: string): Promise<StoredAlert[]> {
  const rows = await q<{ title: string | null; last_seen: string | null; count: string | null }>(
    `SELECT threat->>'rule_name' AS title, fields->>'last_seen' AS last_seen, fields->>'count' AS count
       FROM events WHERE gateway = ${lit(gatewayId)} AND kind = 'alert'`,
  );
  return rows.map((r) => ({
    title: r.title ?? '',
    lastSeen: Date.parse(r.last_seen ?? '') || 0,
    count: Number(r.count ?? 1),
  }));
}

/** Central's alert queue by rule: alerts (rows) and hits (their counts). */
export async function alertQueue(q: Query): Promise<Array<{ title: string; alerts: number; hits: number }>> {
  const rows = await q<{ title: string; alerts: string; hits: string }>(
    'SELECT rule_title AS title, count(*)::text AS alerts, sum(count)::text AS hits FROM alerts GROUP BY 1 ORDER BY 1',
  );
  return rows.map((r) => ({ title: r.title, alerts: Number(r.alerts), hits: Number(r.hits) }));
}

/**
 * Syslog datagrams that are not the load's (the plant's switch also sends over UDP) received since
 * `sinceMs`: the gateway's received counter counts them too.
 */
export async function otherUdpSyslog(q: Query, gatewayId: string, sinceMs: number): Promise<number> {
  const [r] = await q<{ n: string }>(
    `SELECT count(*)::text AS n FROM events
      WHERE gateway = ${lit(gatewayId)} AND source = 'syslog' AND fields->>'transport' = 'udp'
        AND received >= to_timestamp(${sinceMs / 1000}) AND regexp_match(message, 'soak=[TU]\\d') IS NULL`,
  );
  return Number(r?.n ?? 0);
}

/** What the accounting found: the run's failures (an empty list is a pass). */
export function soakFailures(a: {
  undrained: number;
  drainSecs: number;
  streams: StreamAccount[];
  sequence: SequenceAccount;
  /** Datagrams the restarted gateway counted, and those of the plant's switch stored from it. */
  udpReceivedAfter: number;
  udpOthersAfter: number;
  attacks: Array<{
    name: string;
    atSecs: number;
    error?: string;
    expects: string[];
    alerts: Record<string, number>;
  }>;
}): string[] {
  const { undrained, drainSecs, streams, sequence, udpReceivedAfter, udpOthersAfter, attacks } = a;
  const udp = streams.find((s) => s.stream === 'udp')!;
  const failures: string[] = [];
  if (undrained > 0)
    failures.push(
      `the gateway's queue held ${undrained} events ${drainSecs.toFixed(0)} s after the load stopped (they count as lost below)`,
    );
  for (const s of streams) {
    if (s.lost > 0) failures.push(`${s.stream}: ${s.lost} lost (${s.examples.join(', ')})`);
    if (s.duplicates > 0) failures.push(`${s.stream}: ${s.duplicates} stored twice`);
    if (s.unknown > 0) failures.push(`${s.stream}: ${s.unknown} stored that the load never sent`);
    if (s.sent === 0) failures.push(`${s.stream}: nothing sent`);
  }
  // What the restarted gateway received (its counter after the drain is exact) must all be stored:
  // none of it can have been sent before the kill notice. The plant's switch sends syslog over
  // UDP too: its datagrams count in the gateway's counter.
  if ((udp.udpStoredAfterKill ?? 0) + udpOthersAfter < udpReceivedAfter)
    failures.push(
      `udp: the restarted gateway counted ${udpReceivedAfter} received, but only ${udp.udpStoredAfterKill} of the load's sent after the kill and ${udpOthersAfter} of the plant's are stored`,
    );
  if (sequence.stored !== sequence.max || sequence.distinct !== sequence.stored)
    failures.push(
      `gateway sequence: ${sequence.stored} stored, ${sequence.distinct} distinct, max ${sequence.max} (a gap or a repeat)`,
    );
  for (const run of attacks) {
    if (run.error) failures.push(`attack ${run.name} at ${run.atSecs} s failed: ${run.error}`);
    const silent = run.expects.filter((t) => !run.alerts[t]);
    if (silent.length > 0)
      failures.push(`attack ${run.name} at ${run.atSecs} s raised no "${silent.join('", "')}"`);
  }
  if (attacks.length === 0) failures.push('no attack ran');
  return failures;
}
