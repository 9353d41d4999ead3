/**
 * The event feed (migration 016): what every central node stored, in commit order, for the one
 * node that runs central's correlations (the leader, leader.ts). `recordFeed` runs inside each
 * insert's transaction (the store's `onInserted`), as its last statement, so an event is never
 * committed without its feed row. It first takes a transaction-scoped advisory lock, held until
 * that transaction ends, and only then draws the row's id: ids are drawn and committed in one
 * order across every node, so once a reader sees id N, every smaller id is committed or gone for
 * good, and a cursor on the id never skips a row that commits late. (Migration 016 also records
 * the inserting transaction, `xid`; reading by `pg_snapshot_xmin` instead was tried and left:
 * xids are the whole server's, so any long writing transaction in any database held it back.)
 * The lock is held from the feed row to the commit, a few milliseconds: it bounds the number of
 * inserts per second of the whole cluster, not their size.
 */
import type { Event } from '../../protocols/event/schema.ts';
import { type EventRow, rowToEvent, SELECT_COLUMNS, type StorageRow } from '../store/event-rows.ts';
import type { SqlExecutor } from '../store/sql-client.ts';

/** The advisory lock that orders feed rows (distinct from the DDL and leader locks). */
export const FEED_LOCK_KEY = '7305921748236110023';

/** A position in the feed: the last row handled (its id; `xid`, as text, is informational). */
export interface FeedCursor {
  xid: string;
  id: number;
}

/** The start of the feed. */
export const FEED_START: FeedCursor = { xid: '0', id: 0 };

export interface FeedEntry extends FeedCursor {
  node: string;
  gateways: string[];
  seqs: number[];
  tsMin: string;
  tsMax: string;
}

/** Writes the feed row of one insert (inside its transaction). */
export async function recordFeed(tx: SqlExecutor, node: string, rows: readonly StorageRow[]): Promise<void> {
  let tsMin = rows[0]!.ts;
  let tsMax = tsMin;
  const gateways: string[] = [];
  const seqs: number[] = [];
  for (const row of rows) {
    gateways.push(row.event.gateway);
    seqs.push(row.event.seq);
    // Storage times are canonical UTC text of one width: they compare as strings.
    if (row.ts < tsMin) tsMin = row.ts;
    if (row.ts > tsMax) tsMax = row.ts;
  }
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [FEED_LOCK_KEY]);
  await tx.query(
    `INSERT INTO event_feed (node, gateways, seqs, ts_min, ts_max)
     VALUES ($1, $2::text[], $3::bigint[], $4::timestamptz, $5::timestamptz)`,
    [node, gateways, seqs, tsMin, tsMax],
  );
}

type FeedRow = {
  xid: string;
  id: string | number;
  node: string;
  gateways: string[];
  seqs: Array<string | number>;
  ts_min: string;
  ts_max: string;
};

const ENTRY_COLUMNS = `xid::text AS xid, id, node, gateways, seqs::text[] AS seqs,
  ts_min::text AS ts_min, ts_max::text AS ts_max`;

const toEntry = (r: FeedRow): FeedEntry => ({
  xid: r.xid,
  id: Number(r.id),
  node: r.node,
  gateways: r.gateways,
  seqs: r.seqs.map(Number),
  tsMin: r.ts_min,
  tsMax: r.ts_max,
});

/** Up to `limit` rows after `after`, in commit order. */
export async function readFeed(db: SqlExecutor, after: FeedCursor, limit: number): Promise<FeedEntry[]> {
  const { rows } = await db.query<FeedRow>(
    `SELECT ${ENTRY_COLUMNS} FROM event_feed WHERE id > $1 ORDER BY id LIMIT $2`,
    [after.id, limit],
  );
  return rows.map(toEntry);
}

/**
 * The rows up to and including `upTo` created since `since`, in commit order: what a new leader
 * replays silently to reopen the windows the previous one had.
 */
export async function readFeedBefore(
  db: SqlExecutor,
  upTo: FeedCursor,
  since: Date,
  limit: number,
): Promise<FeedEntry[]> {
  const { rows } = await db.query<FeedRow>(
    `SELECT ${ENTRY_COLUMNS} FROM (
       SELECT * FROM event_feed WHERE id <= $1 AND created_at >= $2::timestamptz
        ORDER BY id DESC LIMIT $3) f
      ORDER BY id`,
    [upTo.id, since.toISOString(), limit],
  );
  return rows.map(toEntry);
}

/**
 * The stored events a feed row names, in the order it names them; with `alertsOnly`, only the
 * alerts gateways raised (what detection looks at when central runs no rules of its own).
 */
export async function feedEvents(db: SqlExecutor, entry: FeedEntry, alertsOnly = false): Promise<Event[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${SELECT_COLUMNS} FROM events e
      WHERE e.ts >= $1::timestamptz AND e.ts <= $2::timestamptz${alertsOnly ? " AND e.kind = 'alert'" : ''}
        AND (e.gateway, e.seq) IN (SELECT g COLLATE "C", s FROM unnest($3::text[], $4::bigint[]) AS k(g, s))`,
    [entry.tsMin, entry.tsMax, entry.gateways, entry.seqs],
  );
  const events = rows.map(rowToEvent);
  const order = new Map(entry.gateways.map((g, i) => [`${g}\u0000${entry.seqs[i]}`, i]));
  return events.sort(
    (a, b) => (order.get(`${a.gateway}\u0000${a.seq}`) ?? 0) - (order.get(`${b.gateway}\u0000${b.seq}`) ?? 0),
  );
}

export async function loadCursor(db: SqlExecutor, name: string): Promise<FeedCursor | undefined> {
  const { rows } = await db.query<{ xid: string; id: string | number }>(
    'SELECT xid::text AS xid, id FROM cluster_cursors WHERE name = $1',
    [name],
  );
  return rows[0] && { xid: rows[0].xid, id: Number(rows[0].id) };
}

export async function saveCursor(
  db: SqlExecutor,
  name: string,
  cursor: FeedCursor,
  node: string,
): Promise<void> {
  await db.query(
    `INSERT INTO cluster_cursors (name, xid, id, node, updated_at) VALUES ($1, $2::xid8, $3, $4, now())
     ON CONFLICT (name) DO UPDATE SET xid = EXCLUDED.xid, id = EXCLUDED.id, node = EXCLUDED.node,
       updated_at = now()`,
    [name, cursor.xid, cursor.id, node],
  );
}

/** Deletes handled rows older than `before`; returns how many. */
export async function pruneFeed(db: SqlExecutor, upTo: FeedCursor, before: Date): Promise<number> {
  const result = await db.query('DELETE FROM event_feed WHERE id <= $1 AND created_at < $2::timestamptz', [
    upTo.id,
    before.toISOString(),
  ]);
  return result.rowCount;
}
