/**
 * The sinks' durable outbox (migration 006): queue an alert for every sink whose filter accepts
 * it (inside the alert's own transaction), claim due rows with a lease (so two central nodes
 * never send the same row at once, and a node that dies mid-send leaves it to be retried after
 * the lease), and record the outcome: delivered, rejected for good, or a retry at a later time.
 */
import { randomUUID } from 'node:crypto';
import type { Alert } from '../alerts/types.ts';
import type { SqlExecutor } from '../store/sql-client.ts';

export interface OutboxItem {
  id: number;
  sink: string;
  alert: Alert;
  idempotencyKey: string;
  /** Attempts made before this one. */
  attempts: number;
}

/** Rows claimed at a time per sink. */
export const CLAIM_BATCH = 50;

export async function enqueue(tx: SqlExecutor, sinks: readonly string[], alert: Alert): Promise<void> {
  if (sinks.length === 0) return;
  await tx.query(
    `INSERT INTO sink_outbox (sink, alert_id, payload, idempotency_key)
     SELECT s, $2, $3::jsonb, k FROM unnest($1::text[], $4::text[]) AS u(s, k)`,
    [sinks, alert.id, JSON.stringify(alert), sinks.map(() => randomUUID())],
  );
}

/**
 * Due rows of `sink`, oldest first, leased until `now + leaseMs`: claimed rows are not due again
 * before then, whoever holds them.
 */
export async function claim(
  db: SqlExecutor,
  sink: string,
  now: Date,
  leaseMs: number,
): Promise<OutboxItem[]> {
  const { rows } = await db.query<{
    id: string | number;
    payload: Alert;
    idempotency_key: string;
    attempts: number;
  }>(
    `UPDATE sink_outbox o SET next_attempt_at = $3::timestamptz
      WHERE o.id IN (SELECT id FROM sink_outbox
                      WHERE sink = $1 AND status = 'pending' AND next_attempt_at <= $2::timestamptz
                      ORDER BY next_attempt_at, id LIMIT ${CLAIM_BATCH} FOR UPDATE SKIP LOCKED)
      RETURNING o.id, o.payload, o.idempotency_key, o.attempts`,
    [sink, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString()],
  );
  return rows
    .map((r) => ({
      id: Number(r.id),
      sink,
      alert: r.payload,
      idempotencyKey: r.idempotency_key,
      attempts: Number(r.attempts),
    }))
    .sort((a, b) => a.id - b.id);
}

export async function markDone(
  db: SqlExecutor,
  id: number,
  status: 'delivered' | 'rejected',
  now: Date,
  error?: string,
): Promise<void> {
  await db.query(
    `UPDATE sink_outbox SET status = $2, attempts = attempts + 1, done_at = $3::timestamptz, last_error = $4
      WHERE id = $1`,
    [id, status, now.toISOString(), error ?? null],
  );
}

export async function markRetry(db: SqlExecutor, id: number, at: Date, error: string): Promise<void> {
  await db.query(
    `UPDATE sink_outbox SET attempts = attempts + 1, next_attempt_at = $2::timestamptz, last_error = $3
      WHERE id = $1`,
    [id, at.toISOString(), error.slice(0, 1000)],
  );
}

/** Rows released from a lease without an attempt (the sink gave up on a batch after a failure). */
export async function release(db: SqlExecutor, ids: readonly number[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.query(`UPDATE sink_outbox SET next_attempt_at = $2::timestamptz WHERE id = ANY($1::bigint[])`, [
    ids,
    at.toISOString(),
  ]);
}

export async function pendingCounts(db: SqlExecutor): Promise<Map<string, number>> {
  const { rows } = await db.query<{ sink: string; n: string | number }>(
    `SELECT sink, count(*) AS n FROM sink_outbox WHERE status = 'pending' GROUP BY sink`,
  );
  return new Map(rows.map((r) => [r.sink, Number(r.n)]));
}
