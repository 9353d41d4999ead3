/**
 * The `EventStore` itself, written once over a `SqlClient`: PGlite and PostgreSQL adapters only
 * supply the client. Inserts are COPY through a staging table on PostgreSQL (event-copy.ts) and
 * batched `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` on PGlite, in one transaction; a batch that touches a day of the partition window whose partition is
 * missing gets it created first, anything else lands in events_default.
 */
import type { Event } from '../../protocols/event/schema.ts';
import { flagClockSkew } from './clock-skew.ts';
import { histogram, topValues } from './event-aggregate.ts';
import { CLOSE_GRACE_MS, indexClosedPartitions } from './closed-indexes.ts';
import { RowsHeldError } from './errors.ts';
import { stalledCopies } from './stalled-copies.ts';
import { copyEvents } from './event-copy.ts';
import {
  buildEventQuery,
  buildNarrowProbe,
  encodeCursor,
  estimatedRows,
  NARROW_MARGIN,
  NARROW_ROWS,
  type NarrowProbe,
  timeColumn,
} from './event-query.ts';
import {
  type EventRow,
  INSERT_SQL,
  insertParams,
  rowToEvent,
  type StorageRow,
  toStorageRow,
} from './event-rows.ts';
import { migrate } from './migrate.ts';
import {
  createDailyPartitions,
  DEFAULT_PARTITION,
  DEFAULT_PARTITION_POLICY,
  inWindow,
  listPartitions,
  partitionName,
  utcDayStart,
  validatePolicy,
  windowDays,
} from './partitions.ts';
import type { SqlClient, SqlExecutor } from './sql-client.ts';
import type {
  EventPage,
  EventQuery,
  EventStore,
  InsertResult,
  PartitionPolicy,
  StoreHealth,
} from './types.ts';

/** Rows per INSERT statement: bounds statement size (a message may be 64 KiB) without costing round trips. */
export const INSERT_CHUNK_ROWS = 1000;
/** The first window of a long newest-first search (queryEvents). */
const WINDOW_MS = 3_600_000;
/**
 * The first window when the search reaches the hour still open: it has no listing index yet
 * (migration 019, closed-indexes.ts), so a window sorts every row it holds, and an hour's first
 * window sorted the whole open hour (1.3 s for the newest 100 of 1,000,000 rows; 18,000,000 at
 * 5,000 events/s). A minute's window sorts a minute's rows; sparse searches double it 6 more times.
 */
const OPEN_HOUR_WINDOW_MS = 60_000;
/**
 * The first window of a narrow text search (one host's hour: the text is checked on every row the
 * host's index finds, isNarrow). Each row there is a heap page of its own when devices interleave,
 * and the planner, expecting the text to match almost nothing, reads them all before sorting: an
 * hour's 8,333 rows of one host were 8,393 pages, 440-640 ms from disk (issue 18, 1-hour host +
 * text). A quarter of an hour first stops there when it holds the page's matches.
 */
const NARROW_WINDOW_MS = 15 * 60_000;
/** The shortest window after the first of a narrow search. */
const MIN_WINDOW_MS = 60_000;

export interface SqlStoreOptions {
  /** Daily partitions kept ready around today; defaults to 7 days back, 3 ahead. */
  partitions?: PartitionPolicy;
  /** "Now" for the partition window of inserts and for health; tests move it. Defaults to the system clock. */
  clock?: () => Date;
  /**
   * Events whose ts is further than this from their arrival are stored flagged (clock-skew.ts);
   * 0 or absent: no flagging. createStore sets it from `storage.flag_clock_skew_secs`.
   */
  clockSkewMs?: number;
  /**
   * How often the store builds the indexes of closed partitions (closed-indexes.ts); default one
   * minute, 0 never (the caller runs `indexClosedPartitions`).
   */
  indexIntervalMs?: number;
  /** Told when building those indexes failed (it is retried at the next interval). */
  onIndexError?: (error: Error) => void;
  /**
   * Runs inside the insert's transaction after rows were stored (`inserted` > 0), with the batch's
   * rows (those already stored included: COPY's exact path cannot say which were new). Several
   * central nodes record the event feed here (central/cluster/feed.ts); absent, nothing runs.
   */
  onInserted?: (tx: SqlExecutor, rows: readonly StorageRow[], inserted: number) => Promise<void>;
  /**
   * PostgreSQL: how long an insert waits for rows another open transaction holds (the same events
   * being written by a central node that hung mid-write) before failing with `RowsHeldError`;
   * default 5 s. PGlite has one connection: nothing else can hold rows.
   */
  lockWaitMs?: number;
  /**
   * PostgreSQL: a central COPY still waiting for its node's data this long is a hung node's; every
   * node ends such a COPY when it finds one (stalled-copies.ts), looking every quarter of this and
   * at once when an insert found its rows held; default 30 s.
   */
  stalledSessionMs?: number;
  /** Told what an operator should know but that does not stop central (for the log). */
  onWarning?: (message: string) => void;
}

const DEFAULT_LOCK_WAIT_MS = 5000;
export const DEFAULT_STALLED_SESSION_MS = 30_000;
/** PostgreSQL's lock_not_available, raised when lock_timeout expires. */
const LOCK_NOT_AVAILABLE = '55P03';

function byIdentity(a: StorageRow, b: StorageRow): number {
  // A fixed insertion order keeps two concurrent batches with shared events from deadlocking.
  if (a.event.gateway !== b.event.gateway) return a.event.gateway < b.event.gateway ? -1 : 1;
  if (a.event.seq !== b.event.seq) return a.event.seq - b.event.seq;
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0;
}

/**
 * Whether a text search's other conditions match at most NARROW_ROWS rows (event-query.ts
 * `buildNarrowProbe`): the planner's estimate when it is NARROW_MARGIN times off the bound either
 * way, else counted.
 */
async function isNarrow(tx: SqlExecutor, probe: NarrowProbe): Promise<boolean> {
  const estimate = estimatedRows(
    (await tx.query<Record<string, unknown>>(probe.estimate.text, probe.estimate.params)).rows[0],
  );
  if (estimate !== undefined) {
    if (estimate * NARROW_MARGIN <= NARROW_ROWS) return true;
    if (estimate >= NARROW_ROWS * NARROW_MARGIN) return false;
  }
  return ((await tx.query<{ n: number }>(probe.text, probe.params)).rows[0]?.n ?? Infinity) <= NARROW_ROWS;
}

export function createSqlStore(client: SqlClient, options: SqlStoreOptions = {}): EventStore {
  const policy = validatePolicy(options.partitions ?? DEFAULT_PARTITION_POLICY);
  const clock = options.clock ?? (() => new Date());
  const skewMs = options.clockSkewMs ?? 0;
  const lockWaitMs = Math.max(1, Math.round(options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS));
  const stalled = stalledCopies(client, options.stalledSessionMs ?? DEFAULT_STALLED_SESSION_MS, (message) =>
    options.onWarning?.(message),
  );
  /** Daily partitions known to exist; a miss is checked again under the DDL lock. */
  const known = new Set<string>();
  let closed = false;
  let indexTimer: NodeJS.Timeout | undefined;
  let stalledTimer: NodeJS.Timeout | undefined;
  let indexing: Promise<unknown> = Promise.resolve();

  /** One run at a time; a failure is reported, never thrown into the timer. */
  function indexClosed(now: Date): Promise<string[]> {
    const run = indexing.then(() => (closed ? [] : indexClosedPartitions(client, now)));
    indexing = run.catch((error: Error) => {
      if (!closed) options.onIndexError?.(error);
    });
    return run;
  }

  async function refreshKnown(): Promise<void> {
    known.clear();
    for (const p of await listPartitions(client)) known.add(p.name);
  }

  async function ensureDays(days: readonly number[]) {
    const missing = days.filter((day) => !known.has(partitionName(day)));
    // Today and the days ahead are split by hour, so each hour is indexed once it closes.
    const created = await createDailyPartitions(client, missing, {
      hourlyFrom: utcDayStart(clock().getTime()),
    });
    for (const day of missing) known.add(partitionName(day));
    return created;
  }

  const store: EventStore = {
    adapter: client.adapter,
    sql: client,

    async init(now) {
      await migrate(client);
      await refreshKnown();
      await ensureDays(windowDays(now, policy));
      const every = options.indexIntervalMs ?? 60_000;
      if (every > 0 && indexTimer === undefined) {
        indexTimer = setInterval(() => void indexClosed(clock()).catch(() => {}), every);
        indexTimer.unref();
      }
      // A hung node's COPY holds more than the rows a re-sent batch waits for: PostgreSQL's CREATE
      // and DROP DATABASE wait for every backend, and one waiting for its client never answers, so
      // every live node also looks for one on its own, not only when an insert finds rows held.
      if (client.adapter === 'postgres' && stalledTimer === undefined) {
        stalledTimer = setInterval(() => stalled.sweep(), stalled.everyMs);
        stalledTimer.unref();
      }
    },

    async ensurePartitions(now) {
      await refreshKnown();
      return ensureDays(windowDays(now, policy));
    },

    async insertEvents(events: readonly Event[]): Promise<InsertResult> {
      if (events.length === 0) return { inserted: 0, duplicates: 0 };
      const rows = (skewMs > 0 ? events.map((e) => flagClockSkew(e, skewMs)) : events)
        .map(toStorageRow)
        .sort(byIdentity);
      const now = clock();
      const days = new Set<number>();
      // Rows of one batch share a handful of dates: parse each date once (ts is canonical, `…T…Z`).
      let lastDate = '';
      for (const row of rows) {
        const date = row.ts.slice(0, row.ts.indexOf('T'));
        if (date === lastDate) continue;
        lastDate = date;
        const day = utcDayStart(Date.parse(row.ts));
        if (inWindow(day, now, policy)) days.add(day);
      }
      await ensureDays([...days]);
      const { onInserted } = options;
      const inserted = await client
        .transaction(async (tx) => {
          // PostgreSQL: COPY through a staging table; PGlite (no COPY FROM STDIN): batched unnest.
          // A unique key another open transaction holds makes COPY wait for its end, which never
          // comes while that node is hung: the wait is bounded, and the caller tries again later.
          if (client.adapter === 'postgres')
            await tx.query("SELECT set_config('lock_timeout', $1, true)", [`${lockWaitMs}ms`]);
          let count = 0;
          if (tx.copyFrom) count = await copyEvents(tx, rows);
          else {
            for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
              const result = await tx.query(INSERT_SQL, insertParams(rows.slice(i, i + INSERT_CHUNK_ROWS)));
              count += result.rowCount;
            }
          }
          if (onInserted && count > 0) await onInserted(tx, rows, count);
          return count;
        })
        .catch((error: unknown) => {
          if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) {
            // Held by a node hung mid-COPY? Not idle, so PostgreSQL would keep it (stalled-copies.ts).
            stalled.sweep();
            throw new RowsHeldError(lockWaitMs);
          }
          throw error;
        });
      return { inserted, duplicates: events.length - inserted };
    },

    async queryEvents(query: EventQuery): Promise<EventPage> {
      const { rows, built } = await client.transaction(async (tx) => {
        // A search over many partitions is estimated costly enough for PostgreSQL to JIT-compile
        // it, and compiling the expressions of ~30 partitions took seconds (EXPLAIN: "JIT:
        // Functions: 131") for a query that runs in milliseconds: the search tail of issue 18.
        // Nor in parallel: starting workers cost more than they saved on every search the bench
        // runs (a host's hour with text p50 141 → 70 ms, its day 95 → 35 ms; issue 18), and on
        // central's few cores they compete with ingest. Both for this transaction, in one trip.
        await tx.query(
          "SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)",
        );
        const probe = buildNarrowProbe(query);
        const narrow = probe !== undefined && (await isNarrow(tx, probe));
        // Newest first over a long range: ask the newest hour, then twice as far back each time,
        // until the page is full. Many matches are then found in the first window instead of all
        // being fetched and sorted; few cost a handful of index probes. Same rows, same order:
        // the windows are disjoint and taken newest first (by ts, the listing's order).
        const windowed = query.from && query.to && timeColumn(query.timeField) === 'ts';
        let to = query.to;
        const open = to !== undefined && to.getTime() > clock().getTime() - WINDOW_MS - CLOSE_GRACE_MS;
        let span = open ? OPEN_HOUR_WINDOW_MS : narrow ? NARROW_WINDOW_MS : WINDOW_MS;
        const found: EventRow[] = [];
        let built = buildEventQuery(query, { textIndex: !narrow });
        for (;;) {
          const from =
            windowed && to!.getTime() - span > query.from!.getTime()
              ? new Date(to!.getTime() - span)
              : query.from;
          built = buildEventQuery({ ...query, from, to, limit: query.limit }, { textIndex: !narrow });
          const { rows: got } = await tx.query<EventRow>(built.text, built.params);
          found.push(...got.slice(0, built.limit + 1 - found.length));
          if (found.length > built.limit || from === query.from) break;
          // Twice as far back; a narrow search, which reads every row of a window, less when this
          // window's matches say the rest of the page is nearer (half again as far as they say).
          const needed = ((built.limit + 1 - found.length) / Math.max(got.length, 1)) * span * 1.5;
          span =
            narrow && got.length > 0
              ? Math.max(MIN_WINDOW_MS, Math.min(span * 2, Math.ceil(needed)))
              : span * 2;
          to = from;
        }
        return { rows: found, built };
      });
      const page = rows.slice(0, built.limit);
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > built.limit && last
          ? encodeCursor({ ts: last.ts_text, gateway: last.gateway, seq: Number(last.seq) })
          : null;
      return { events: page.map(rowToEvent), nextCursor };
    },

    histogram: (filter, intervalMs) => histogram(client, filter, intervalMs),
    topValues: (filter, field, limit) => topValues(client, filter, field, limit),
    listPartitions: () => listPartitions(client),
    indexClosedPartitions: (now) => indexClosed(now),

    async countDefaultPartition() {
      const { rows } = await client.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM ${DEFAULT_PARTITION}`,
      );
      return Number(rows[0]?.n ?? 0);
    },

    async health(): Promise<StoreHealth> {
      if (closed) return { ok: false, adapter: client.adapter, detail: 'closed' };
      try {
        const today = partitionName(utcDayStart(clock().getTime()));
        const { rows } = await client.query<{ today: boolean }>(
          'SELECT to_regclass($1) IS NOT NULL AS today',
          [today],
        );
        if (rows[0]?.today) return { ok: true, adapter: client.adapter };
        // Still writable: today's events go to events_default until ensurePartitions runs.
        return { ok: true, adapter: client.adapter, detail: `partition ${today} missing` };
      } catch (error) {
        return { ok: false, adapter: client.adapter, detail: (error as Error).message };
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(indexTimer);
      clearInterval(stalledTimer);
      await indexing;
      await client.close();
    },
  };
  return store;
}
