/**
 * Retention of `events` by whole partitions (DESIGN.md "Storage"): a daily partition whose day
 * ended more than `eventsDays` days ago (all its events are older) is dropped, optionally after it
 * was archived (archive.ts). Dropping is exact: the partition is detached, its rows counted
 * under that lock, and when an archive was written the count must equal the archive's, or the
 * drop is rolled back (a late event arrived after the archive was taken; the next run archives
 * again). The DEFAULT partition is never dropped; it is watched instead (lifecycle.ts).
 */
import { type ArchiveFormat, type ArchiveManifest, archivePartition } from './archive.ts';
import { listPartitions } from './partitions.ts';
import { lockDdl, quoteIdent, type SqlClient } from './sql-client.ts';
import type { PartitionInfo } from './types.ts';

const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  /** A partition is dropped once all its events are older than this many days; 0 keeps everything. */
  eventsDays: number;
  /** Archive each partition here before dropping it; absent: drop without archive. */
  archive?: { dir: string; format: ArchiveFormat };
}

export interface DroppedPartition {
  name: string;
  rows: number;
  /** The archive's manifest, when archiving is on. */
  manifest?: ArchiveManifest;
}

/** Daily partitions whose every event is older than `eventsDays` days at `now`, oldest first. */
export function expiredPartitions(
  partitions: readonly PartitionInfo[],
  now: Date,
  eventsDays: number,
): PartitionInfo[] {
  if (eventsDays <= 0) return [];
  const cutoff = now.getTime() - eventsDays * DAY_MS;
  return partitions.filter((p) => p.to !== null && p.to.getTime() <= cutoff);
}

/**
 * Detaches and drops one daily partition in one transaction; when `expectRows` is given and the
 * partition holds a different number of rows, nothing is dropped and an error says why.
 */
export async function dropPartition(client: SqlClient, name: string, expectRows?: number): Promise<number> {
  return client.transaction(async (tx) => {
    await lockDdl(tx);
    // Names come from listPartitions (pg_inherits), never from input.
    await tx.query(`ALTER TABLE events DETACH PARTITION ${quoteIdent(name)}`);
    const { rows } = await tx.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${quoteIdent(name)}`);
    const count = Number(rows[0]?.n ?? 0);
    if (expectRows !== undefined && count !== expectRows) {
      throw new Error(
        `${name} holds ${count} rows, its archive ${expectRows}; not dropped, archived again next run`,
      );
    }
    await tx.query(`DROP TABLE ${quoteIdent(name)}`);
    return count;
  });
}

/** Applies the policy at `now`: archives (when configured) and drops every expired partition. */
export async function applyRetention(
  client: SqlClient,
  policy: RetentionPolicy,
  now: Date,
): Promise<{ dropped: DroppedPartition[]; failed: Array<{ name: string; error: string }> }> {
  const dropped: DroppedPartition[] = [];
  const failed: Array<{ name: string; error: string }> = [];
  for (const partition of expiredPartitions(await listPartitions(client), now, policy.eventsDays)) {
    try {
      const manifest = policy.archive
        ? await archivePartition(client, partition.name, { ...policy.archive, now })
        : undefined;
      const rows = await dropPartition(client, partition.name, manifest?.rows);
      dropped.push({ name: partition.name, rows, ...(manifest && { manifest }) });
    } catch (error) {
      // One bad partition (disk full while archiving) must not stop the others.
      failed.push({ name: partition.name, error: (error as Error).message });
    }
  }
  return { dropped, failed };
}
