/**
 * Central's playbook store (migration 014): the playbooks, their runs with each concrete action
 * and its outcome, and the audit trail of every step (who or what triggered, approved, executed
 * or undid it). Parameterised SQL only; JSON columns hold what protocols/playbook/schema.ts
 * validated. No policy here: central/playbooks/engine.ts decides what runs. A write of the
 * playbooks table is announced (store/table-changes.ts): every node's cached list is dropped.
 */
import type { Playbook } from '../../protocols/playbook/schema.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';
import { createTableChanges, type TableChanges } from '../store/table-changes.ts';

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

export interface StoredPlaybook extends Playbook {
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

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

const iso = (d: unknown): string | null => (d ? new Date(d as string).toISOString() : null);
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

type Row = Record<string, unknown>;

const toPlaybook = (r: Row): StoredPlaybook => ({
  id: r.id as string,
  name: r.name as string,
  description: r.description as string,
  enabled: Boolean(r.enabled),
  approval: Boolean(r.approval),
  match: json(r.match),
  actions: json(r.actions),
  created_at: iso(r.created_at)!,
  created_by: r.created_by as string,
  updated_at: iso(r.updated_at)!,
  updated_by: r.updated_by as string,
});

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

export function createPlaybookStore(sql: SqlClient, changes: TableChanges = createTableChanges()) {
  /** A statement on the playbooks table, announced when it wrote a row (table-changes.ts). */
  const write = (text: string, params: unknown[]) =>
    changes.write(
      sql,
      'playbooks',
      (tx) => tx.query<Row>(text, params),
      (r) => r.rows.length > 0,
    );
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
    async list(): Promise<StoredPlaybook[]> {
      const { rows } = await sql.query<Row>('SELECT * FROM playbooks ORDER BY id');
      return rows.map(toPlaybook);
    },
    async get(id: string): Promise<StoredPlaybook | undefined> {
      const { rows } = await sql.query<Row>('SELECT * FROM playbooks WHERE id = $1', [id]);
      return rows[0] ? toPlaybook(rows[0]) : undefined;
    },
    async count(): Promise<number> {
      const { rows } = await sql.query<{ n: number | string }>('SELECT count(*) AS n FROM playbooks');
      return Number(rows[0]?.n ?? 0);
    },
    /** Creates (false when the id exists) or replaces a playbook. */
    async put(p: Playbook, actor: string, create: boolean): Promise<StoredPlaybook | undefined> {
      const params = [
        p.id,
        p.name,
        p.description,
        p.enabled,
        p.approval,
        JSON.stringify(p.match),
        JSON.stringify(p.actions),
        actor,
      ];
      const { rows } = await write(
        create
          ? `INSERT INTO playbooks (id, name, description, enabled, approval, match, actions, created_by, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $8) ON CONFLICT (id) DO NOTHING RETURNING *`
          : `UPDATE playbooks SET name = $2, description = $3, enabled = $4, approval = $5, match = $6::jsonb,
               actions = $7::jsonb, updated_by = $8, updated_at = now() WHERE id = $1 RETURNING *`,
        params,
      );
      return rows[0] ? toPlaybook(rows[0]) : undefined;
    },
    async remove(id: string): Promise<boolean> {
      const { rows } = await write('DELETE FROM playbooks WHERE id = $1 RETURNING id', [id]);
      return rows.length > 0;
    },

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

export type PlaybookStore = ReturnType<typeof createPlaybookStore>;
