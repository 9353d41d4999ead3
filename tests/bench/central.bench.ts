/**
 * Central benchmark (issues 7 and 18), on a real PostgreSQL, in one run:
 * - ingest through the whole central path: a gateway's link connection (authenticated, batches
 *   of 5000 events, 4 in flight, sent from a worker thread that encoded them before the clock
 *   started: support/link-sender.ts), validation, COPY with exactly-once storage, ack, and the
 *   post-commit enrichment (device inventory, intel) and detection — beside a raw COPY of the
 *   same rows (no dedup, no link) into `events` as it was before issue 18 (migrations up to 011:
 *   nine indexes, the trigram one among them), and, for context, into today's `events`;
 * - search latency, p50 and p95, through the store's query API (what `GET /api/events` runs) of
 *   filtered 1-hour and 24-hour queries (host + severity, host + text, a rare word alone) over
 *   10,000,000 stored events spread over 24 hours (quick mode: 200,000), in the store's own
 *   partitions and indexes (support/search-data.ts: built once into the `bench_search` database
 *   and reused). Each run asks another hour, host and word, so the figures are not those of one
 *   cached page.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import type { Event } from '../../protocols/event/schema.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { loadMigrations, migrate } from '../../central/store/migrate.ts';
import { createDailyPartitions, utcDayStart } from '../../central/store/partitions.ts';
import { createPostgresClient } from '../../central/store/postgres.ts';
import type { EventQuery } from '../../central/store/types.ts';
import { startTestCentral } from '../support/stack.ts';
import { makeEvents, sendThroughLink } from './support/link-sender.ts';
import { rawCopyRate } from './support/raw-copy.ts';
import { openSearchData } from './support/search-data.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'central';

const BATCH = 5000;
const IN_FLIGHT = 4;
const HOSTS = Array.from({ length: 50 }, (_, i) => `plc-${i}`);
const DAY_MS = 86_400_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Rows/s of a raw COPY of `events` into `events` as migrations up to 011 left it (before issue 18). */
async function rawCopyBeforeIssue18(events: readonly Event[], end: number): Promise<number> {
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    const client = createPostgresClient(pool);
    await migrate(
      client,
      (await loadMigrations()).filter((m) => m.version <= 11),
    );
    await createDailyPartitions(client, [utcDayStart(end - DAY_MS), utcDayStart(end)]);
    return await rawCopyRate(db.url, events);
  } finally {
    await pool.end();
    await db.drop();
  }
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const count = quick ? 20_000 : 500_000;
  /** Events stored when searching (issue 7: 10,000,000). */
  const searchRows = quick ? 100_000 : 10_000_000;
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  const c = await startTestCentral({ type: 'postgres', url: db.url }, { gatewayId: 'bench-gw' });
  const end = Date.now();
  try {
    // SIEM_BENCH_CENTRAL=search: only the search part (three consecutive runs without re-ingesting).
    const ingest =
      process.env.SIEM_BENCH_CENTRAL === 'search'
        ? undefined
        : await (async () => {
            // 1. Through the link, from a worker thread playing the gateway (support/link-sender.ts).
            const sent = await sendThroughLink({
              url: c.central.linkUrl(),
              gateway: 'bench-gw',
              privateKey: c.privateKey,
              count,
              end,
              batch: BATCH,
              inFlight: IN_FLIGHT,
            });
            if (sent.inserted !== count) throw new Error(`stored ${sent.inserted} of ${count} events`);
            const linkRate = count / sent.seconds;

            // 2. Raw COPY of the same rows (another gateway id, so nothing conflicts): into `events` as
            // it was before issue 18 (the peer), and into today's `events` (context).
            const rawBefore = await rawCopyBeforeIssue18(
              makeEvents(`raw-${randomBytes(3).toString('hex')}`, count, end),
              end,
            );
            const rawNow = await rawCopyRate(
              db.url,
              makeEvents(`raw-${randomBytes(3).toString('hex')}`, count, end),
            );
            // 3. The listing's first screen (the newest page of the last 24 hours) while the last 50
            // minutes hold `openRows` events: the hour still open has no listing index (migration
            // 019), so a window of it sorts every row it holds.
            const openRows = quick ? 40_000 : 1_000_000;
            await rawCopyRate(
              db.url,
              makeEvents(`open-${randomBytes(3).toString('hex')}`, openRows, end, { spanMs: 3_000_000 }),
            );
            const newest: number[] = [];
            for (let k = 0; k < 12; k++) {
              const t0 = performance.now();
              const page = await c.central.store.queryEvents({
                from: new Date(end - DAY_MS),
                to: new Date(end + 1000),
                limit: 100,
              });
              if (page.events.length !== 100) throw new Error(`newest page: ${page.events.length} events`);
              if (k >= 2) newest.push(performance.now() - t0);
            }
            newest.sort((x, y) => x - y);
            return { linkRate, rawBefore, rawNow, load: loadavg()[0]!, newest, openRows };
          })();

    // 3. Search latency over `searchRows` events (support/search-data.ts).
    const data = await openSearchData(
      quick
        ? `bench_search_quick_${randomBytes(3).toString('hex')}`
        : (process.env.SIEM_BENCH_SEARCH_DB ?? 'bench_search'),
      searchRows,
      {
        temporary: quick,
        log: (line) => console.error(line),
      },
    );
    try {
      const store = data.store;
      const dataEnd = data.end;
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
        return times.sort((x, y) => x - y);
      };
      // Run k: the hour ending k % 23 + 1 hours before the data's end, host plc-(7k mod 50).
      const hour = (k: number) => ({
        from: new Date(dataEnd - ((k % 23) + 2) * 3_600_000),
        to: new Date(dataEnd - ((k % 23) + 1) * 3_600_000),
      });
      const day = { from: new Date(dataEnd - DAY_MS), to: new Date(dataEnd) };
      const host = (k: number) => HOSTS[(7 * k) % HOSTS.length]!;
      // "Gi1/0/<n> changed" on host plc-<h> matches 1 row in 1200: n ≡ h (mod 2) and the rest follows.
      const text = (k: number) => `Gi1/0/${((7 * k) % HOSTS.length) % 48} changed`;
      // "seq <n>": one event among all, anywhere in the day (n spread over the rows).
      const rare = (k: number) => `seq ${1 + Math.floor(((k * 7919) % RUNS) * (data.rows / RUNS)) + k}`;
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
          target: 1000,
          times: await timed((k) => ({ ...day, host: host(k), text: text(k), limit: 100 })),
        },
        {
          label: '24-hour text search, one rare word pair alone',
          target: 1000,
          times: await timed((k) => ({ ...day, text: rare(k), limit: 100 })),
        },
      ];
      const rowsNote = `${data.rows.toLocaleString('en-US')} rows over 24 h (${
        data.buildSecs > 0 ? `built in ${data.buildSecs.toFixed(0)} s` : 'reused'
      }); load ${loadavg()[0]!.toFixed(1)}`;
      const ingestFigures: BenchFigure[] = [];
      if (ingest) {
        const { linkRate, rawBefore, rawNow, load: loadAfterIngest, newest, openRows } = ingest;
        ingestFigures.push({
          name: 'ingest through the central path (link → validate → COPY, exactly once → ack)',
          value: linkRate,
          unit: 'events/s',
          peer: { name: 'raw COPY of the same rows, indexes before issue 18', value: rawBefore },
          target: { value: rawBefore * 3, better: 'higher', issue: 18 },
          note: `${count.toLocaleString('en-US')} events; target: 3× the raw COPY with the indexes before issue 18; raw COPY into today's events: ${Math.round(rawNow).toLocaleString('en-US')} rows/s; load ${loadAfterIngest.toFixed(1)}`,
        });
        ingestFigures.push({
          name: `newest 100 events of the last 24 hours, ${openRows.toLocaleString('en-US')} of them in the last 50 minutes, p95`,
          value: percentile(newest, 95),
          unit: 'ms',
          note: `p50 ${percentile(newest, 50).toFixed(1)} ms; ${newest.length} runs; the listing's first screen while the open hour is full`,
        });
      }
      return [
        ...ingestFigures,
        ...searches.map(({ label, target, times }) => ({
          name: `${label}, p95`,
          value: percentile(times, 95),
          unit: 'ms',
          ...(target !== undefined && {
            target: { value: target, better: 'lower' as const, issue: target === 1000 ? 18 : 7 },
          }),
          note: `p50 ${percentile(times, 50).toFixed(1)} ms; ${RUNS} runs, each another hour/host/word; ${rowsNote}`,
        })),
      ];
    } finally {
      await data.close();
    }
  } finally {
    await c.central.stop();
    await db.drop();
  }
}
