/**
 * Retention of central's non-partitioned tables, run by the lifecycle job beside the partition
 * drops: closed alerts (resolved or false positive, unchanged for `alertsDays`; their comments,
 * history and outbox rows go with them by ON DELETE CASCADE) and finished outbox rows (delivered
 * or rejected more than `outboxDays` ago), and the access audit log (`audit_log` rows older than
 * `auditDays`). Open alerts and pending deliveries are never removed, however old. Deletes run in bounded chunks so a first run over a large backlog does not hold
 * one huge transaction.
 */
import type { SqlClient } from './sql-client.ts';

export interface RowRetentionPolicy {
  /** Closed alerts unchanged for this many days are deleted; 0 keeps them. */
  alertsDays: number;
  /** Delivered or rejected outbox rows finished this many days ago are deleted; 0 keeps them. */
  outboxDays: number;
  /** Audit log rows (logins, changes) older than this many days are deleted; 0 keeps them. */
  auditDays: number;
}

export interface PrunedRows {
  alerts: number;
  outbox: number;
  audit: number;
}

const DAY_MS = 86_400_000;
/** Rows a chunked delete removes per statement (its SQL ends in `LIMIT ${PRUNE_CHUNK}`). */
export const PRUNE_CHUNK = 5000;

const PRUNE_ALERTS_SQL = `DELETE FROM alerts WHERE id IN (
  SELECT id FROM alerts
   WHERE status IN ('resolved', 'false_positive') AND updated_at < $1::timestamptz
   LIMIT ${PRUNE_CHUNK})`;

const PRUNE_OUTBOX_SQL = `DELETE FROM sink_outbox WHERE id IN (
  SELECT id FROM sink_outbox
   WHERE status IN ('delivered', 'rejected') AND done_at < $1::timestamptz
   LIMIT ${PRUNE_CHUNK})`;

const PRUNE_AUDIT_SQL = `DELETE FROM audit_log WHERE id IN (
  SELECT id FROM audit_log WHERE ts < $1::timestamptz LIMIT ${PRUNE_CHUNK})`;

/** Runs `sql` (a DELETE of at most PRUNE_CHUNK rows older than $1) until a chunk comes back short. */
export async function pruneInChunks(client: SqlClient, sql: string, cutoff: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await client.query(sql, [cutoff.toISOString()]);
    total += rowCount;
    if (rowCount < PRUNE_CHUNK) return total;
  }
}

export async function pruneRows(
  client: SqlClient,
  policy: RowRetentionPolicy,
  now: Date,
): Promise<PrunedRows> {
  const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS);
  return {
    alerts:
      policy.alertsDays > 0 ? await pruneInChunks(client, PRUNE_ALERTS_SQL, cutoff(policy.alertsDays)) : 0,
    outbox:
      policy.outboxDays > 0 ? await pruneInChunks(client, PRUNE_OUTBOX_SQL, cutoff(policy.outboxDays)) : 0,
    audit: policy.auditDays > 0 ? await pruneInChunks(client, PRUNE_AUDIT_SQL, cutoff(policy.auditDays)) : 0,
  };
}
