/**
 * What alerts and incidents share as cases an analyst works: a status and an assignee changed
 * only when they differ, comments, and a history row for each change written in the same
 * transaction as the change (DESIGN.md "Alerts"). One implementation for both tables; the table
 * names come from `CaseTables` constants here, never from a caller's input.
 */
import { utcColumn } from './rows.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';

export interface CaseTables {
  /** The cases (`alerts`, `incidents`), with `status`, `assignee` and `updated_at`. */
  cases: string;
  /** Their history (`alert_id`, `at`, `actor`, `change`, `from_value`, `to_value`). */
  history: string;
  /** Their comments (`author`, `body`, `created_at`). */
  comments: string;
  /** The column naming the case in both (`alert_id`, `incident_id`). */
  ref: string;
}

export const ALERT_TABLES: CaseTables = {
  cases: 'alerts',
  history: 'alert_history',
  comments: 'alert_comments',
  ref: 'alert_id',
};

export const INCIDENT_TABLES: CaseTables = {
  cases: 'incidents',
  history: 'incident_history',
  comments: 'incident_comments',
  ref: 'incident_id',
};

export interface CaseComment {
  id: number;
  author: string;
  body: string;
  created_at: string;
}

/** One history row of case `id`. */
export function writeHistory(
  tx: SqlExecutor,
  t: CaseTables,
  row: { id: number; at: string; actor: string; change: string; from: string | null; to: string | null },
) {
  return tx.query(
    `INSERT INTO ${t.history} (${t.ref}, at, actor, change, from_value, to_value)
     VALUES ($1, $2::timestamptz, $3, $4, $5, $6)`,
    [row.id, row.at, row.actor, row.change, row.from, row.to],
  );
}

/**
 * Sets the status and assignee of case `id` that differ from what it has, each with its history
 * row; false when there is no such case.
 */
export function updateCase(
  db: SqlClient,
  t: CaseTables,
  id: number,
  changes: { status?: string; assignee?: string | null },
  actor: string,
  at: string,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ status: string; assignee: string | null }>(
      `SELECT status, assignee FROM ${t.cases} WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const before = rows[0];
    if (!before) return false;
    for (const field of ['status', 'assignee'] as const) {
      const to = changes[field];
      if (to === undefined || to === before[field]) continue;
      await tx.query(`UPDATE ${t.cases} SET ${field} = $2, updated_at = $3::timestamptz WHERE id = $1`, [
        id,
        to,
        at,
      ]);
      await writeHistory(tx, t, { id, at, actor, change: field, from: before[field], to });
    }
    return true;
  });
}

/** Adds a comment to case `id` with its history row; undefined when there is no such case. */
export function commentCase(
  db: SqlClient,
  t: CaseTables,
  id: number,
  body: string,
  author: string,
  at: string,
): Promise<CaseComment | undefined> {
  return db.transaction(async (tx) => {
    const { rows: exists } = await tx.query(`SELECT 1 FROM ${t.cases} WHERE id = $1 FOR UPDATE`, [id]);
    if (exists.length === 0) return undefined;
    const { rows } = await tx.query<CaseComment>(
      `INSERT INTO ${t.comments} (${t.ref}, author, body, created_at) VALUES ($1, $2, $3, $4::timestamptz)
       RETURNING id, author, body, ${utcColumn('created_at')}`,
      [id, author, body, at],
    );
    const comment = { ...rows[0]!, id: Number(rows[0]!.id) };
    await writeHistory(tx, t, {
      id,
      at,
      actor: author,
      change: 'comment',
      from: null,
      to: String(comment.id),
    });
    await tx.query(`UPDATE ${t.cases} SET updated_at = $2::timestamptz WHERE id = $1`, [id, at]);
    return comment;
  });
}
