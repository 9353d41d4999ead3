/**
 * The storage contract of central. Two adapters implement it, PGlite (embedded, the default)
 * and PostgreSQL (`DATABASE_URL`), running the same SQL migrations; one conformance suite
 * (tests/central/store/conformance.ts) runs against both.
 */
import type { Event, EventSource } from '../../protocols/event/schema.ts';
import type { SqlClient } from './sql-client.ts';

export interface EventQuery {
  /** Inclusive lower bound on the time field. */
  from?: Date;
  /** Exclusive upper bound on the time field. */
  to?: Date;
  /**
   * Which time `from`/`to` (and histogram buckets) apply to: `ts` (the device's, default) or
   * `received` (the gateway's arrival time, which a device cannot backdate).
   */
  timeField?: TimeField;
  source?: EventSource;
  /** Exact host name (case-insensitive). */
  host?: string;
  /** Only events at least this severe: severity <= severityMax (0 = emergency). */
  severityMax?: number;
  /**
   * Text in the message, case-insensitive: the message contains it, and each of its words is a
   * whole word of the message (`event-query.ts` textWords). Text without words (`%`, `->`) is a
   * plain substring.
   */
  text?: string;
  gateway?: string;
  /** Exact `device.id`. */
  deviceId?: string;
  /** Exact action, e.g. `modbus.write_single_register`. */
  action?: string;
  /** Events carrying this tag, e.g. `clock_skew`. */
  tag?: string;
  /** Page size, clamped to 1..1000 (NaN means 100). */
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`; anything else throws `InvalidCursorError`. */
  cursor?: string;
}

export const TIME_FIELDS = ['ts', 'received'] as const;
export type TimeField = (typeof TIME_FIELDS)[number];

/** The filters of an `EventQuery`, without paging. */
export type EventFilter = Omit<EventQuery, 'limit' | 'cursor'>;

export const TOP_FIELDS = ['host', 'action', 'source', 'gateway', 'device_id', 'src_ip'] as const;
export type TopField = (typeof TOP_FIELDS)[number];

export interface HistogramBucket {
  /** Start of the bucket: a multiple of the interval since the epoch. */
  start: Date;
  count: number;
}

export interface TopValue {
  value: string;
  count: number;
}

export interface EventPage {
  /**
   * Newest first: ts descending, then gateway, then seq descending. Timestamps come back in UTC
   * (`Z`) at ms precision (`Date#toISOString`), or µs when the sub-ms digits are non-zero.
   */
  events: Event[];
  /** Cursor for the next (older) page, or null when this was the last page. */
  nextCursor: string | null;
}

export interface InsertResult {
  /** Rows newly stored. */
  inserted: number;
  /** Events already stored before (a re-sent batch): not stored twice. */
  duplicates: number;
}

export interface PartitionInfo {
  name: string;
  /** Inclusive start of the day (UTC), or null for the DEFAULT partition. */
  from: Date | null;
  /** Exclusive end, or null for the DEFAULT partition. */
  to: Date | null;
}

export interface StoreHealth {
  ok: boolean;
  adapter: 'pglite' | 'postgres';
  detail?: string;
}

export interface EventStore {
  readonly adapter: 'pglite' | 'postgres';
  /**
   * The database connection the store runs on, for central's other tables (gateway registry,
   * enrollment tokens; later alerts and users), which share the migrations and the adapters.
   */
  readonly sql: SqlClient;
  /** Applies pending migrations (idempotent) and creates the partitions around `now`. */
  init(now: Date): Promise<void>;
  /**
   * Creates daily partitions from `now - pastDays` to `now + aheadDays` (UTC days) if missing,
   * moving any rows of those days out of the DEFAULT partition first. Idempotent.
   * Returns the partitions this call created (empty when none were missing).
   */
  ensurePartitions(now: Date): Promise<PartitionInfo[]>;
  /**
   * Stores a batch in one transaction. Resolves only after commit; an event whose (gateway, seq, ts)
   * is already stored, or repeats an earlier one of the same batch, is counted as a duplicate and
   * not stored again (a re-sent event is byte-identical, so its ts matches too).
   */
  insertEvents(events: readonly Event[]): Promise<InsertResult>;
  queryEvents(query: EventQuery): Promise<EventPage>;
  /** Events per time bucket of `intervalMs` (epoch-aligned); only non-empty buckets, oldest first. */
  histogram(filter: EventFilter, intervalMs: number): Promise<HistogramBucket[]>;
  /** The `limit` most frequent non-NULL values of `field`, count descending, ties by value. */
  topValues(filter: EventFilter, field: TopField, limit: number): Promise<TopValue[]>;
  listPartitions(): Promise<PartitionInfo[]>;
  /**
   * Builds the indexes of partitions whose time has passed (closed-indexes.ts); returns those
   * created. The store runs it by itself every minute; tests and benchmarks call it to be sure.
   */
  indexClosedPartitions(now: Date): Promise<string[]>;
  /** Rows in the DEFAULT partition (timestamps outside every daily partition). */
  countDefaultPartition(): Promise<number>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export interface PartitionPolicy {
  /** Daily partitions kept ready before today (UTC). */
  pastDays: number;
  /** Daily partitions created ahead of today (UTC). */
  aheadDays: number;
}
