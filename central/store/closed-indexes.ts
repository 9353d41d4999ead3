/**
 * Indexes built per partition once its time has passed (issue 18): at ingest `events` carries only
 * the indexes every batch must pay for (migrations 012 and 019: the unique key of exactly-once
 * storage, `lower(host)`, and block range indexes on ts and received), and each closed partition —
 * an hour of today or of a day created ahead, or a whole day created after the fact — then gets the
 * B-trees of the listing order and `device_id=`, the word index of text search and the action
 * index, built in one pass over rows that no longer change (late events still land in it, and are
 * indexed as they come). An index built in bulk costs a fraction of keeping it up row by row, and
 * nothing of it is on the path that acks batches. Rows of the hour still open are few (an hour),
 * and searched through the range index on ts and a filter.
 */
import { DEFAULT_PARTITION, partitionBounds } from './partitions.ts';
import { quoteIdent, type SqlClient } from './sql-client.ts';

/** How long after its end a partition is indexed: late events of the hour have arrived by then. */
export const CLOSE_GRACE_MS = 5 * 60_000;
/** `events_pYYYYMMDD_hHH`. */
const HOURLY = /^(events_p\d{8})_h(\d{2})$/;

/** The indexes a closed partition gets; `leaf` is quoted by the caller. */
export const CLOSED_INDEXES: ReadonlyArray<{ suffix: string; definition: (leaf: string) => string }> = [
  // On `events` itself until migration 019: the listing order with its keyset cursor and
  // `device_id=`. Cheap to build: first, so the hour just closed is searched by them within seconds.
  { suffix: 'ts', definition: (leaf) => `${leaf} (ts DESC, gateway DESC, seq DESC)` },
  { suffix: 'device', definition: (leaf) => `${leaf} (device_id, ts DESC)` },
  // Words compared byte-wise (COLLATE "C"): building or probing a GIN index on text compares
  // keys constantly, and the locale's collation costs several times memcmp (measured 2×).
  {
    suffix: 'words',
    definition: (leaf) => `${leaf} USING gin ((event_tokens(message)) COLLATE "C")`,
  },
  { suffix: 'action', definition: (leaf) => `${leaf} (action, ts DESC)` },
];

export interface LeafPartition {
  name: string;
  /** Exclusive end. */
  to: Date;
}

/** Bounds of a leaf partition from its name (hourly or daily); null for any other table. */
export function leafEnd(name: string): Date | null {
  const hourly = HOURLY.exec(name);
  if (hourly) {
    const day = partitionBounds(hourly[1]!);
    const hour = Number(hourly[2]);
    if (!day || hour > 23) return null;
    return new Date(day.from.getTime() + (hour + 1) * 3_600_000);
  }
  return partitionBounds(name)?.to ?? null;
}

/** Leaf partitions (tables holding rows) of `events` whose end is at least CLOSE_GRACE_MS before `now`. */
export async function closedLeaves(client: SqlClient, now: Date): Promise<LeafPartition[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_partition_tree('events') t JOIN pg_class c ON c.oid = t.relid
      WHERE t.isleaf`,
  );
  const leaves: LeafPartition[] = [];
  for (const { name } of rows) {
    if (name === DEFAULT_PARTITION) continue;
    const to = leafEnd(name);
    if (to && to.getTime() + CLOSE_GRACE_MS <= now.getTime()) leaves.push({ name, to });
  }
  return leaves.sort((a, b) => b.to.getTime() - a.to.getTime());
}

/**
 * Builds the missing closed-partition indexes, newest partition first (the one searched most);
 * returns the indexes created. Each is one statement in its own transaction, so a search or an
 * insert waits at most for one partition's build. Two central nodes may race on one index: the
 * loser's error is ignored when the index exists afterwards.
 */
export async function indexClosedPartitions(client: SqlClient, now: Date): Promise<string[]> {
  const leaves = await closedLeaves(client, now);
  if (leaves.length === 0) return [];
  const names = leaves.flatMap((leaf) => CLOSED_INDEXES.map((index) => `${leaf.name}_${index.suffix}`));
  const { rows } = await client.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class WHERE relkind = 'i' AND relname = ANY($1::text[])`,
    [names],
  );
  const existing = new Set(rows.map((r) => r.name));
  const created: string[] = [];
  for (const leaf of leaves) {
    for (const index of CLOSED_INDEXES) {
      const name = `${leaf.name}_${index.suffix}`;
      if (existing.has(name)) continue;
      try {
        await client.transaction(async (tx) => {
          await tx.query(`SET LOCAL maintenance_work_mem = '64MB'`);
          await tx.query(
            `CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${index.definition(quoteIdent(leaf.name))}`,
          );
        });
        created.push(name);
      } catch (error) {
        const { rows: now } = await client.query<{ found: boolean }>(
          `SELECT to_regclass($1) IS NOT NULL AS found`,
          [quoteIdent(name)],
        );
        // The partition went (retention) or another node built it: nothing to do.
        const { rows: leafRows } = await client.query<{ found: boolean }>(
          `SELECT to_regclass($1) IS NOT NULL AS found`,
          [quoteIdent(leaf.name)],
        );
        if (now[0]?.found || !leafRows[0]?.found) continue;
        throw error;
      }
    }
  }
  return created;
}
