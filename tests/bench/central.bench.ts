/**
 * Central benchmark (issue 7), on a real PostgreSQL, in one run:
 * - ingest through the whole central path: a gateway's link connection (authenticated, batches
 *   of 5000 events, 4 in flight), validation, COPY through the staging table with exactly-once
 *   storage, ack, and the post-commit enrichment (device inventory, intel) — beside a raw COPY of
 *   the same rows straight into `events` (no dedup, no link) in the same run;
 * - search latency, p50 and p95, of a filtered 1-hour and a filtered 24-hour query (host +
 *   severity, and host + text) over everything stored, spread over the last 24 hours.
 * Quick mode: 50,000 events each way; full: 500,000 (the 10,000,000 rows take longer
 * than this harness's budget; the figure's note says how many rows were searched).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { INSERT_COLUMNS, rowValues, toStorageRow } from '../../central/store/event-rows.ts';
import { copyText } from '../../central/store/event-copy.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { rawClient } from '../support/link-client.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { startTestCentral } from '../support/stack.ts';
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

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const count = quick ? 50_000 : 500_000;
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
    const tagsAt = INSERT_COLUMNS.findIndex(([name]) => name === 'tags');
    const pgClient = new pg.Client({ connectionString: db.url });
    await pgClient.connect();
    function* lines() {
      let buffer = '';
      for (const event of raw) {
        const values = rowValues(toStorageRow(event));
        values[tagsAt] = '{}';
        buffer += `${values.map(copyText).join('\t')}\n`;
        if (buffer.length > 256 * 1024) {
          yield buffer;
          buffer = '';
        }
      }
      if (buffer) yield buffer;
    }
    const rawStarted = performance.now();
    await pipeline(
      Readable.from(lines()),
      pgClient.query(copyFrom(`COPY events (${INSERT_COLUMNS.map(([n]) => n).join(', ')}) FROM STDIN`)),
    );
    const rawRate = count / ((performance.now() - rawStarted) / 1000);
    await pgClient.query('ANALYZE events');
    await pgClient.end();

    // 3. Search latency over everything stored (2 × count rows over the last 24 h).
    const store = c.central.store;
    const timed = async (q: () => Promise<unknown>, runs = 40) => {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await q();
        times.push(performance.now() - t0);
      }
      return times.sort((a, b) => a - b);
    };
    const hourFrom = new Date(end - 3 * 3_600_000);
    const hour = await timed(() =>
      store.queryEvents({
        from: hourFrom,
        to: new Date(hourFrom.getTime() + 3_600_000),
        host: 'plc-7',
        severityMax: 4,
        limit: 100,
      }),
    );
    const day = await timed(() =>
      store.queryEvents({
        from: new Date(end - DAY_MS),
        to: new Date(end),
        host: 'plc-7',
        text: 'Gi1/0/7 changed',
        limit: 100,
      }),
    );
    const rows = `${(2 * count).toLocaleString('en-US')} rows stored`;
    return [
      {
        name: 'ingest through the central path (link → validate → COPY, exactly once → ack)',
        value: linkRate,
        unit: 'events/s',
        peer: { name: 'raw COPY of the same rows', value: rawRate },
        note: `${count.toLocaleString('en-US')} events; target ≥ 50% of raw COPY`,
      },
      {
        name: '1-hour filtered search (host + severity), p95',
        value: percentile(hour, 95),
        unit: 'ms',
        target: { value: 200, better: 'lower' },
        note: `p50 ${percentile(hour, 50).toFixed(1)} ms; ${rows}`,
      },
      {
        name: '24-hour filtered search (host + text), p95',
        value: percentile(day, 95),
        unit: 'ms',
        note: `p50 ${percentile(day, 50).toFixed(1)} ms; ${rows}`,
      },
    ];
  } finally {
    await c.central.stop();
    await db.drop();
  }
}
