/**
 * The runs of central's playbook store (migration 014): one run per playbook and alert (or local
 * alert of a gateway), with each concrete action, its outcome and what undoing it needs.
 * Parameterised SQL only; JSON columns hold what protocols/playbook/schema.ts validated.
 */
import type { Playbook } from '../../protocols/playbook/schema.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';
import { iso, json, type Row } from './rows.ts';

export type RunStatus = 'pending' | 'rejected' | 'running' | 'done' | 'failed';
export type ActionStatus =
  | 'pending'
  | 'queued'
  | 'sent'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'edge'
  | 'undoing'
  | 'undone'
  | 'undo_failed'
  | 'rejected';

export interface RunAction {
  id: number;
  run_id: number;
  idx: number;
  type: string;
  params: Record<string, unknown>;
  gateway: string | null;
  status: ActionStatus;
  error: string | null;
  undo: Record<string, unknown> | null;
  executed_at: string | null;
  undone_at: string | null;
  undone_by: string | null;
}

export interface Run {
  id: number;
  playbook_id: string;
  playbook_name: string;
  trigger: 'central' | 'gateway';
  alert_id: number | null;
  gateway: string | null;
  gateway_alert: string | null;
  rule_id: string | null;
  status: RunStatus;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
  actions: RunAction[];
}

const toAction = (r: Row): RunAction => ({
  id: Number(r.id),
  run_id: Number(r.run_id),
  idx: Number(r.idx),
  type: r.type as string,
  params: json(r.params),
  gateway: (r.gateway as string | null) ?? null,
  status: r.status as ActionStatus,
  error: (r.error as string | null) ?? null,
  undo: r.undo === null || r.undo === undefined ? null : json(r.undo),
  executed_at: iso(r.executed_at),
  undone_at: iso(r.undone_at),
  undone_by: (r.undone_by as string | null) ?? null,
});

const toRun = (r: Row, actions: RunAction[]): Run => ({
  id: Number(r.id),
  playbook_id: r.playbook_id as string,
  playbook_name: r.playbook_name as string,
  trigger: r.trigger as Run['trigger'],
  alert_id: r.alert_id === null ? null : Number(r.alert_id),
  gateway: (r.gateway as string | null) ?? null,
  gateway_alert: (r.gateway_alert as string | null) ?? null,
  rule_id: (r.rule_id as string | null) ?? null,
  status: r.status as RunStatus,
  decided_by: (r.decided_by as string | null) ?? null,
  decided_at: iso(r.decided_at),
  reason: (r.reason as string | null) ?? null,
  created_at: iso(r.created_at)!,
  updated_at: iso(r.updated_at)!,
  actions,
});

export function createRunStore(sql: SqlClient) {
  const actionsOf = async (db: SqlExecutor, runIds: number[]) => {
    if (runIds.length === 0) return new Map<number, RunAction[]>();
    const { rows } = await db.query<Row>(
      'SELECT * FROM playbook_actions WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, idx, id',
      [runIds],
    );
    const out = new Map<number, RunAction[]>();
    for (const r of rows.map(toAction)) out.set(r.run_id, [...(out.get(r.run_id) ?? []), r]);
    return out;
  };

  return {
    /** A new run; undefined when this playbook already ran for this alert (or local alert). */
    async createRun(run: {
      playbook: Pick<Playbook, 'id' | 'name'>;
      trigger: Run['trigger'];
      alertId?: number | null;
      gateway?: string | null;
      gatewayAlert?: string | null;
      ruleId?: string | null;
      status: RunStatus;
    }): Promise<number | undefined> {
      const { rows } = await sql.query<{ id: number | string }>(
        `INSERT INTO playbook_runs (playbook_id, playbook_name, trigger, alert_id, gateway, gateway_alert, rule_id, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id`,
        [
          run.playbook.id,
          run.playbook.name,
          run.trigger,
          run.alertId ?? null,
          run.gateway ?? null,
          run.gatewayAlert ?? null,
          run.ruleId ?? null,
          run.status,
        ],
      );
      return rows[0] ? Number(rows[0].id) : undefined;
    },
    async findLocalRun(
      playbookId: string,
      gateway: string,
      gatewayAlert: string,
    ): Promise<number | undefined> {
      const { rows } = await sql.query<{ id: number | string }>(
        'SELECT id FROM playbook_runs WHERE playbook_id = $1 AND gateway = $2 AND gateway_alert = $3',
        [playbookId, gateway, gatewayAlert],
      );
      return rows[0] ? Number(rows[0].id) : undefined;
    },
    async setRun(
      id: number,
      patch: { status: RunStatus; decided_by?: string; reason?: string | null },
      onlyFrom?: RunStatus,
    ): Promise<boolean> {
      const { rows } = await sql.query<Row>(
        `UPDATE playbook_runs SET status = $2, updated_at = now(),
           decided_by = COALESCE($3, decided_by), decided_at = CASE WHEN $3::text IS NULL THEN decided_at ELSE now() END,
           reason = COALESCE($4, reason)
         WHERE id = $1 AND ($5::text IS NULL OR status = $5) RETURNING id`,
        [id, patch.status, patch.decided_by ?? null, patch.reason ?? null, onlyFrom ?? null],
      );
      return rows.length > 0;
    },

    async addAction(a: {
      runId: number;
      idx: number;
      type: string;
      params: Record<string, unknown>;
      gateway?: string | null;
      status: ActionStatus;
      error?: string | null;
      undo?: Record<string, unknown> | null;
      eventId?: string;
    }): Promise<RunAction | undefined> {
      const { rows } = await sql.query<Row>(
        `INSERT INTO playbook_actions (run_id, idx, type, params, gateway, status, error, undo, event_id, executed_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb, $9,
           CASE WHEN $6 IN ('succeeded', 'failed') THEN now() END)
         ON CONFLICT (event_id) DO NOTHING RETURNING *`,
        [
          a.runId,
          a.idx,
          a.type,
          JSON.stringify(a.params),
          a.gateway ?? null,
          a.status,
          a.error ?? null,
          a.undo ? JSON.stringify(a.undo) : null,
          a.eventId ?? null,
        ],
      );
      return rows[0] ? toAction(rows[0]) : undefined;
    },
    async getAction(id: number): Promise<RunAction | undefined> {
      const { rows } = await sql.query<Row>('SELECT * FROM playbook_actions WHERE id = $1', [id]);
      return rows[0] ? toAction(rows[0]) : undefined;
    },
    /** Moves an action on, only from one of `from` when given (a result that raced an undo is ignored). */
    async setAction(
      id: number,
      patch: {
        status: ActionStatus;
        error?: string | null;
        undo?: Record<string, unknown> | null;
        undoneBy?: string;
      },
      from?: ActionStatus[],
    ): Promise<RunAction | undefined> {
      const executed = ['succeeded', 'failed'].includes(patch.status);
      const undone = ['undone', 'undo_failed'].includes(patch.status);
      const { rows } = await sql.query<Row>(
        `UPDATE playbook_actions SET status = $2, error = $3,
           undo = CASE WHEN $4::boolean THEN $5::jsonb ELSE undo END,
           executed_at = CASE WHEN $6::boolean THEN now() ELSE executed_at END,
           undone_at = CASE WHEN $7::boolean THEN now() ELSE undone_at END,
           undone_by = COALESCE($8, undone_by)
         WHERE id = $1 AND ($9::text[] IS NULL OR status = ANY($9::text[])) RETURNING *`,
        [
          id,
          patch.status,
          patch.error ?? null,
          patch.undo !== undefined,
          patch.undo ? JSON.stringify(patch.undo) : null,
          executed,
          undone && patch.status === 'undone',
          patch.undoneBy ?? null,
          from ?? null,
        ],
      );
      return rows[0] ? toAction(rows[0]) : undefined;
    },
    /** The actions whose undo names this entry of this gateway (a block lifted on the gateway). */
    async byEntry(gateway: string, entry: string): Promise<RunAction[]> {
      const { rows } = await sql.query<Row>(
        `SELECT * FROM playbook_actions WHERE gateway = $1 AND undo->>'entry' = $2
           AND status IN ('succeeded', 'undo_failed', 'undoing') ORDER BY id LIMIT 100`,
        [gateway, entry],
      );
      return rows.map(toAction);
    },
    /** Gateway commands waiting for their gateway (apply queued, undo requested). */
    async waiting(gateway: string): Promise<RunAction[]> {
      const { rows } = await sql.query<Row>(
        `SELECT * FROM playbook_actions WHERE gateway = $1 AND status IN ('queued', 'undoing') ORDER BY id LIMIT 1000`,
        [gateway],
      );
      return rows.map(toAction);
    },

    async getRun(id: number): Promise<Run | undefined> {
      const { rows } = await sql.query<Row>('SELECT * FROM playbook_runs WHERE id = $1', [id]);
      if (!rows[0]) return undefined;
      return toRun(rows[0], (await actionsOf(sql, [id])).get(id) ?? []);
    },
    async listRuns(q: {
      status?: RunStatus;
      playbook?: string;
      limit: number;
      before?: number;
    }): Promise<Run[]> {
      const { rows } = await sql.query<Row>(
        `SELECT * FROM playbook_runs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR playbook_id = $2)
           AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4`,
        [q.status ?? null, q.playbook ?? null, q.before ?? null, q.limit],
      );
      const actions = await actionsOf(
        sql,
        rows.map((r) => Number(r.id)),
      );
      return rows.map((r) => toRun(r, actions.get(Number(r.id)) ?? []));
    },
  };
}
