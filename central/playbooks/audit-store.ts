/**
 * The audit trail of central's playbook store (migration 014): every step of a playbook, a run
 * and its undo (who or what triggered, approved, executed or undid it), newest first.
 */
import type { SqlClient } from '../store/sql-client.ts';
import { iso, json, type Row } from './rows.ts';

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  playbook_id: string | null;
  run_id: number | null;
  action_id: number | null;
  what: string;
  outcome: string;
  detail: Record<string, unknown> | null;
}

export function createAuditStore(sql: SqlClient) {
  return {
    async audit(entry: {
      actor: string;
      what: string;
      outcome: string;
      playbookId?: string | null;
      runId?: number | null;
      actionId?: number | null;
      detail?: Record<string, unknown> | null;
    }): Promise<void> {
      await sql.query(
        `INSERT INTO playbook_audit (actor, what, outcome, playbook_id, run_id, action_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
        [
          entry.actor.slice(0, 200),
          entry.what,
          entry.outcome.slice(0, 1000),
          entry.playbookId ?? null,
          entry.runId ?? null,
          entry.actionId ?? null,
          entry.detail ? JSON.stringify(entry.detail) : null,
        ],
      );
    },
    async auditOf(q: { runId?: number; limit: number; before?: number }): Promise<AuditRow[]> {
      const { rows } = await sql.query<Row>(
        `SELECT * FROM playbook_audit WHERE ($1::bigint IS NULL OR run_id = $1) AND ($2::bigint IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3`,
        [q.runId ?? null, q.before ?? null, q.limit],
      );
      return rows.map((r) => ({
        id: Number(r.id),
        at: iso(r.at)!,
        actor: r.actor as string,
        playbook_id: (r.playbook_id as string | null) ?? null,
        run_id: r.run_id === null ? null : Number(r.run_id),
        action_id: r.action_id === null ? null : Number(r.action_id),
        what: r.what as string,
        outcome: r.outcome as string,
        detail: r.detail === null ? null : json(r.detail),
      }));
    },
  };
}
