/**
 * Retention of the playbook tables (migration 014), run by central's lifecycle job beside the
 * partition drops and the alert pruning (central/lifecycle.ts). A finished run (done, failed or
 * rejected) unchanged for `runsDays` goes with its actions (ON DELETE CASCADE), unless one of its
 * actions is still in flight (pending, queued, sent, undoing) or still undoable (succeeded or
 * undo_failed with an undo record: a block in force, a disabled user): the run is the handle to
 * take that back. Audit rows older than `auditDays` go once their run is gone (or they have none),
 * so a run kept keeps its trail. Deletes run in bounded chunks, so a first run over a large
 * backlog does not hold one huge transaction.
 */
import { PRUNE_CHUNK, pruneInChunks } from '../store/retention-rows.ts';
import type { SqlClient } from '../store/sql-client.ts';
import type { PlaybooksConfig } from './config.ts';

export interface PrunedPlaybookRows {
  playbookRuns: number;
  playbookAudit: number;
}

const DAY_MS = 86_400_000;

const PRUNE_RUNS_SQL = `DELETE FROM playbook_runs WHERE id IN (
  SELECT r.id FROM playbook_runs r
   WHERE r.status IN ('done', 'failed', 'rejected') AND r.updated_at < $1::timestamptz
     AND NOT EXISTS (
       SELECT 1 FROM playbook_actions a
        WHERE a.run_id = r.id
          AND (a.status IN ('pending', 'queued', 'sent', 'undoing')
               OR (a.status IN ('succeeded', 'undo_failed') AND a.undo IS NOT NULL)))
   LIMIT ${PRUNE_CHUNK})`;

const PRUNE_AUDIT_SQL = `DELETE FROM playbook_audit WHERE id IN (
  SELECT u.id FROM playbook_audit u
   WHERE u.at < $1::timestamptz
     AND (u.run_id IS NULL OR NOT EXISTS (SELECT 1 FROM playbook_runs r WHERE r.id = u.run_id))
   LIMIT ${PRUNE_CHUNK})`;

/** The rows `sql` deletes older than `days` (0 keeps everything). */
const deleteOlder = (client: SqlClient, sql: string, days: number, now: Date): Promise<number> =>
  days > 0 ? pruneInChunks(client, sql, new Date(now.getTime() - days * DAY_MS)) : Promise.resolve(0);

export async function prunePlaybookRows(
  client: SqlClient,
  retention: PlaybooksConfig['retention'],
  now: Date,
): Promise<PrunedPlaybookRows> {
  // Runs first: the audit rows of the runs deleted now may go in the same pass.
  const playbookRuns = await deleteOlder(client, PRUNE_RUNS_SQL, retention.runs_days, now);
  const playbookAudit = await deleteOlder(client, PRUNE_AUDIT_SQL, retention.audit_days, now);
  return { playbookRuns, playbookAudit };
}
