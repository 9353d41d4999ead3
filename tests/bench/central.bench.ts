/**
 * Central benchmark (issue 7), on a real PostgreSQL, in one run:
 * - ingest through the whole central path: a gateway's link connection (authenticated, batches
 *   of 5000 events, 4 in flight), validation, COPY with exactly-once storage, ack, and the
 *   post-commit enrichment (device inventory, intel) and detection — beside a raw COPY of the
 *   same rows straight into `events` (no dedup, no link) in the same run;
 * - search latency, p50 and p95, through the store's query API (what `GET /api/events` runs) of
 *   filtered 1-hour and 24-hour queries (host + severity, host + text) over 10,000,000 stored
 *   events spread over the last 24 hours (quick mode: 200,000). Each run asks another hour and
 *   another host, so the figures are not those of one cached page.
 * The search rows beyond those ingested are generated server-side (`INSERT … SELECT
 * generate_series`): they need not go through the link to measure search. To load 10,000,000
 * rows in a minute or two rather than the ~10 minutes of inserting into indexed partitions, each
 * daily partition of the range is detached, refilled as an unindexed table (unlogged: the
 * database is thrown away), indexed in bulk with the parent's own index definitions (one
 * connection per partition, in parallel) and attached again, where PostgreSQL adopts those
 * indexes; then ANALYZE. The partitions end as the store itself would have them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Event } from '../../protocols/event/schema.ts';
import { rawClient } from '../support/link-client.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { partitionName, utcDayStart } from '../../central/store/partitions.ts';
import type { EventQuery } from '../../central/store/types.ts';
import { startTestCentral } from '../support/stack.ts';
import { rawCopyRate } from './support/raw-copy.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'central';

const BATCH = 5000;
const IN_FLIGHT = 4;
const HOSTS = Array.from({ length: 50 }, (_, i) => `plc-${i}`);
const DAY_MS = 86_400_000;

function makeEvents(gateway: string, count: number, end: number): Event[] {
  return Array.from({ length: count }, (_, i) => {
    const ts = new Date(end - DAY_MS + Math.floor((i * DAY_MS) / count)).toISOString();
    return {
      v: 1,
      id: `${gateway}:${i + 1}`,
      gateway,
      seq: i + 1,
      ts,
      received: ts,
      source: 'syslog',
      kind: i % 10 === 0 ? 'security' : 'telemetry',
      action: 'syslog.message',
      severity: i % 8,
      message: `%LINK-3-UPDOWN: Interface Gi1/0/${i % 48} changed state to ${i % 2 ? 'up' : 'down'} seq ${i}`,
      host: HOSTS[i % HOSTS.length],
      device: { id: `syslog:${HOSTS[i % HOSTS.length]}` },
      src: { ip: `10.0.${i % 4}.${i % 250}`, port: 514 },
      fields: { facility: 23, app_name: 'ifmgr' },
      tags: [],
    };
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Generated rows `first..last` of gateway `gateway`, spread evenly over [from, to) ms, shaped like
 * `makeEvents` (50 hosts, 48 interfaces, severities 0–7) so that the filters select alike.
 */
function fillSql(table: string): string {
  return `INSERT INTO ${table} (id, gateway, seq, ts, received, source, kind, action, severity, message,
    host, device_id, src_ip, src_port, fields, v)
  SELECT $1::text || ':' || i, $1::text, i, t.ts, t.ts, 'syslog', CASE WHEN i % 10 = 0 THEN 'security' ELSE 'telemetry' END,
    'syslog.message', i % 8,
    '%LINK-3-UPDOWN: Interface Gi1/0/' || (i % 48) || ' changed state to '
      || CASE WHEN i % 2 = 1 THEN 'up' ELSE 'down' END || ' seq ' || i,
    'plc-' || (i % 50), 'syslog:plc-' || (i % 50), '10.0.' || (i % 4) || '.' || (i % 250), 514,
    '{"facility": 23, "app_name": "ifmgr"}', 1
  FROM generate_series($2::bigint, $3::bigint) AS i,
    LATERAL (SELECT to_timestamp(($4::bigint + (i - $2::bigint) * ($5::bigint - $4::bigint) / ($3::bigint - $2::bigint + 1)) / 1000.0) AS ts) t`;
}

/** Adds `rows` generated events over [end − 24 h, end), partition by partition (see the file header). */
export async function loadSearchRows(url: string, rows: number, end: number): Promise<void> {
  const from = end - DAY_MS;
  const segments: Array<{ day: number; from: number; to: number }> = [];
  for (let day = utcDayStart(from); day < end; day += DAY_MS) {
    segments.push({ day, from: Math.max(day, from), to: Math.min(day + DAY_MS, end) });
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const { rows: defs } = await admin.query<{ indexdef: string }>(
    `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'events'`,
  );
  await admin.end();
  let first = 1;
  await Promise.all(
    segments.map(async (segment, i) => {
      const share =
        i === segments.length - 1
          ? rows - Math.round((rows * (segment.from - from)) / DAY_MS)
          : Math.round((rows * (segment.to - segment.from)) / DAY_MS);
      const seq = first;
      first += share;
      if (share <= 0) return;
      const name = partitionName(segment.day);
      const fill = `${name}_fill`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`SET maintenance_work_mem = '256MB'`);
        await client.query(`ALTER TABLE events DETACH PARTITION ${name}`);
        await client.query(
          `CREATE UNLOGGED TABLE ${fill} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
        );
        await client.query(`INSERT INTO ${fill} SELECT * FROM ${name}`);
        await client.query(fillSql(fill), ['bench-search', seq, seq + share - 1, segment.from, segment.to]);
        for (const { indexdef } of defs) {
          await client.query(
            indexdef.replace(
              /^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?public\.events /,
              `CREATE $1INDEX ON ${fill} `,
            ),
          );
        }
        await client.query(`DROP TABLE ${name}`);
        await client.query(`ALTER TABLE ${fill} RENAME TO ${name}`);
        await client.query(
          `ALTER TABLE events ATTACH PARTITION ${name} FOR VALUES FROM ('${new Date(segment.day).toISOString()}') TO ('${new Date(segment.day + DAY_MS).toISOString()}')`,
        );
      } finally {
        await client.end();
      }
    }),
  );
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const count = quick ? 50_000 : 500_000;
  /** Events stored when searching (issue 7: 10,000,000). */
  const searchRows = quick ? 200_000 : 10_000_000;
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  const c = await startTestCentral({ type: 'postgres', url: db.url }, { gatewayId: 'bench-gw' });
  const end = Date.now();
  try {
    // 1. Through the link.
    const events = makeEvents('bench-gw', count, end);
    const client = await rawClient(c.central.linkUrl());
    await client.hello('bench-gw', c.privateKey);
    await client.next('welcome');
    const started = performance.now();
    let sent = 0;
    let acked = 0;
    let id = 0;
    while (acked < count) {
      while (sent < count && sent - acked < IN_FLIGHT * BATCH) {
        client.send({ type: 'batch', batch_id: ++id, events: events.slice(sent, sent + BATCH) });
        sent += Math.min(BATCH, count - sent);
      }
      const ack = await client.next('ack');
      acked += ack.inserted + ack.duplicates + ack.rejected;
    }
    const linkRate = count / ((performance.now() - started) / 1000);
    client.close();

    // 2. Raw COPY of the same rows (another gateway id, so nothing conflicts) into events.
    const raw = makeEvents(`raw-${randomBytes(3).toString('hex')}`, count, end);
    const rawRate = await rawCopyRate(db.url, raw);

    // 3. Search latency over SEARCH_ROWS stored events (those above plus generated ones).
    const loadStarted = performance.now();
    await loadSearchRows(db.url, searchRows - 2 * count, end);
    const analyze = new pg.Client({ connectionString: db.url });
    await analyze.connect();
    await analyze.query('ANALYZE events');
    const stored = Number(
      (await analyze.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n,
    );
    await analyze.end();
    const loadSecs = (performance.now() - loadStarted) / 1000;
    const store = c.central.store;
    const RUNS = 40;
    /** Runs `query(k)` RUNS times (k = 0..RUNS-1, after 2 warm-up runs); sorted latencies in ms. */
    const timed = async (query: (k: number) => EventQuery) => {
      for (let k = 0; k < 2; k++) await store.queryEvents(query(RUNS + k));
      const times: number[] = [];
      for (let k = 0; k < RUNS; k++) {
        const t0 = performance.now();
        await store.queryEvents(query(k));
        times.push(performance.now() - t0);
      }
      return times.sort((a, b) => a - b);
    };
    // Run k: the hour ending k % 23 + 1 hours ago, host plc-(7k mod 50), newest 100 first.
    const hour = (k: number) => ({
      from: new Date(end - ((k % 23) + 2) * 3_600_000),
      to: new Date(end - ((k % 23) + 1) * 3_600_000),
    });
    const day = { from: new Date(end - DAY_MS), to: new Date(end) };
    const host = (k: number) => HOSTS[(7 * k) % HOSTS.length]!;
    // "Gi1/0/<n> changed" on host plc-<h> matches 1 row in 1200: n ≡ h (mod 2) and the rest follows.
    const text = (k: number) => `Gi1/0/${((7 * k) % HOSTS.length) % 48} changed`;
    const searches = [
      {
        label: '1-hour filtered search (host + severity)',
        target: 200,
        times: await timed((k) => ({ ...hour(k), host: host(k), severityMax: 4, limit: 100 })),
      },
      {
        label: '1-hour filtered search (host + text)',
        target: 200,
        times: await timed((k) => ({ ...hour(k), host: host(k), text: text(k), limit: 100 })),
      },
      {
        label: '24-hour filtered search (host + severity)',
        times: await timed((k) => ({ ...day, host: host(k), severityMax: 4, limit: 100 })),
      },
      {
        label: '24-hour filtered search (host + text)',
        times: await timed((k) => ({ ...day, host: host(k), text: text(k), limit: 100 })),
      },
    ];
    const rowsNote = `${stored.toLocaleString('en-US')} rows stored over 24 h (loaded in ${loadSecs.toFixed(0)} s)`;
    return [
      {
        name: 'ingest through the central path (link → validate → COPY, exactly once → ack)',
        value: linkRate,
        unit: 'events/s',
        peer: { name: 'raw COPY of the same rows', value: rawRate },
        target: { value: rawRate * 0.5, better: 'higher', issue: 7 },
        note: `${count.toLocaleString('en-US')} events; target: at least 50% of raw COPY`,
      },
      ...searches.map(({ label, target, times }) => ({
        name: `${label}, p95`,
        value: percentile(times, 95),
        unit: 'ms',
        ...(target !== undefined && { target: { value: target, better: 'lower' as const, issue: 7 } }),
        note: `p50 ${percentile(times, 50).toFixed(1)} ms; ${RUNS} runs, each another hour/host; ${rowsNote}`,
      })),
    ];
  } finally {
    await c.central.stop();
    await db.drop();
  }
}
