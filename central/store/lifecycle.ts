/**
 * One run of the partition lifecycle over a store: create the daily partitions of the window
 * ahead, apply retention (archive, then drop expired partitions; prune closed alerts and finished
 * outbox rows), and count the DEFAULT
 * partition's rows so they can be reported. Pure of timers and logging: the central job
 * (central/lifecycle.ts) runs it hourly, `siem-central lifecycle` runs it once.
 */
import { applyRetention, type DroppedPartition, type RetentionPolicy } from './retention.ts';
import { pruneRows, type PrunedRows, type RowRetentionPolicy } from './retention-rows.ts';
import type { EventStore } from './types.ts';

export interface LifecycleReport {
  at: string;
  /** Partitions created by this run. */
  created: string[];
  dropped: DroppedPartition[];
  /** Expired partitions that could not be archived or dropped, with the reason. */
  failed: Array<{ name: string; error: string }>;
  /** Closed alerts, finished outbox rows and old audit rows deleted by this run. */
  pruned: PrunedRows;
  /** Rows in events_default after this run. */
  defaultRows: number;
}

export async function runLifecycle(
  store: EventStore,
  retention: RetentionPolicy & Partial<RowRetentionPolicy>,
  now: Date,
): Promise<LifecycleReport> {
  const created = await store.ensurePartitions(now);
  const { dropped, failed } = await applyRetention(store.sql, retention, now);
  const pruned = await pruneRows(
    store.sql,
    {
      alertsDays: retention.alertsDays ?? 0,
      outboxDays: retention.outboxDays ?? 0,
      auditDays: retention.auditDays ?? 0,
    },
    now,
  );
  return {
    pruned,
    at: now.toISOString(),
    created: created.map((p) => p.name),
    dropped,
    failed,
    defaultRows: await store.countDefaultPartition(),
  };
}
