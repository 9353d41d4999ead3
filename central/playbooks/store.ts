/**
 * Central's playbook store (migration 014): the playbooks (here), their runs with each concrete
 * action and its outcome (run-store.ts), and the audit trail of every step (audit-store.ts: who or
 * what triggered, approved, executed or undid it), as one object. Parameterised SQL only; JSON
 * columns hold what protocols/playbook/schema.ts validated. No policy here: central/playbooks/
 * decides what runs. A write of the playbooks table is announced (store/table-changes.ts): every
 * node's cached list is dropped.
 */
import type { Playbook } from '../../protocols/playbook/schema.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { createTableChanges, type TableChanges } from '../store/table-changes.ts';
import { createAuditStore } from './audit-store.ts';
import { iso, json, type Row } from './rows.ts';
import { createRunStore } from './run-store.ts';

export type { AuditRow } from './audit-store.ts';
export type { ActionStatus, Run, RunAction, RunStatus } from './run-store.ts';

export interface StoredPlaybook extends Playbook {
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

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

export function createPlaybookStore(sql: SqlClient, changes: TableChanges = createTableChanges()) {
  /** A statement on the playbooks table, announced when it wrote a row (table-changes.ts). */
  const write = (text: string, params: unknown[]) =>
    changes.write(
      sql,
      'playbooks',
      (tx) => tx.query<Row>(text, params),
      (r) => r.rows.length > 0,
    );

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

    ...createRunStore(sql),
    ...createAuditStore(sql),
  };
}

export type PlaybookStore = ReturnType<typeof createPlaybookStore>;
