/**
 * The event feed (migration 016): what every central node stored, in commit order, for the one
 * node that runs central's correlations (the leader, leader.ts). `recordFeed` runs inside each
 * insert's transaction (the store's `onInserted`), so an event is never committed without its
 * feed row. `readFeed` pages through it from a cursor, taking only rows of transactions older
 * than every transaction still running (`pg_snapshot_xmin`): a transaction that started first but
 * commits last is waited for, never skipped.
 */
import type { Event } from '../../protocols/event/schema.ts';
import { type EventRow, rowToEvent, SELECT_COLUMNS, type StorageRow } from '../store/event-rows.ts';
import type { SqlExecutor } from '../store/sql-client.ts';

/** A position in the feed: the last row handled (xid as text: an xid8 may pass 2^53). */
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

/** Up to `limit` rows after `after`, in commit order, none of which a running transaction may still precede. */
export async function readFeed(db: SqlExecutor, after: FeedCursor, limit: number): Promise<FeedEntry[]> {
  const { rows } = await db.query<FeedRow>(
    `SELECT ${ENTRY_COLUMNS} FROM event_feed
      WHERE (xid, id) > ($1::xid8, $2::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY xid, id LIMIT $3`,
    [after.xid, after.id, limit],
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
       SELECT * FROM event_feed WHERE (xid, id) <= ($1::xid8, $2::bigint) AND created_at >= $3::timestamptz
        ORDER BY xid DESC, id DESC LIMIT $4) f
      ORDER BY xid, id`,
    [upTo.xid, upTo.id, since.toISOString(), limit],
  );
  return rows.map(toEntry);
}

/** The stored events a feed row names, in the order it names them. */
export async function feedEvents(db: SqlExecutor, entry: FeedEntry): Promise<Event[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${SELECT_COLUMNS} FROM events e
      WHERE e.ts >= $1::timestamptz AND e.ts <= $2::timestamptz
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

/** The newest row of the feed now (a first leader starts there: nothing before it was the cluster's). */
export async function feedHead(db: SqlExecutor): Promise<FeedCursor> {
  const { rows } = await db.query<{ xid: string; id: string | number }>(
    'SELECT xid::text AS xid, id FROM event_feed ORDER BY xid DESC, id DESC LIMIT 1',
  );
  return rows[0] ? { xid: rows[0].xid, id: Number(rows[0].id) } : FEED_START;
}

/** Deletes handled rows older than `before`; returns how many. */
export async function pruneFeed(db: SqlExecutor, upTo: FeedCursor, before: Date): Promise<number> {
  const result = await db.query(
    'DELETE FROM event_feed WHERE (xid, id) <= ($1::xid8, $2::bigint) AND created_at < $3::timestamptz',
    [upTo.xid, upTo.id, before.toISOString()],
  );
  return result.rowCount;
}
