/**
 * Retention of playbook runs and of the playbook audit trail (central/playbooks/retention.ts), run
 * by central's lifecycle job on PGlite and PostgreSQL: finished runs unchanged for longer than
 * `playbooks.retention.runs_days` go with their actions, recent ones stay, and so do old runs still
 * waiting for a decision or a gateway or holding a change that can be undone; audit rows older than
 * `audit_days` go unless their run is kept; 0 keeps everything. The defaults are 90 and 365 days.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { createCentralEvents } from '../../../central/events.ts';
import { createLifecycleJob } from '../../../central/lifecycle.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import type { PlaybooksConfig } from '../../../central/playbooks/config.ts';
import { createPlaybookStore, type PlaybookStore, type RunStatus } from '../../../central/playbooks/store.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { skipUnmet } from '../../support/env.ts';
import { requirePostgres, type TempDatabase } from '../../support/postgres.ts';

const DAY_MS = 86_400_000;
const NOW = new Date();

for (const kind of ['pglite', 'postgres'] as const)
  describe(`playbook retention (${kind})`, () => {
    let db: TempDatabase | undefined;
    let store: EventStore | undefined;
    let playbooks: PlaybookStore;
    let n = 0;
    before(async (t) => {
      if (kind === 'postgres') {
        db = await requirePostgres(t);
        if (!db) return;
      }
      store = db
        ? await createPostgresStore({ connectionString: db.url, poolMax: 2 })
        : await createPgliteStore();
      await store.init(NOW);
      playbooks = createPlaybookStore(store.sql);
    });
    after(async () => {
      await store?.close();
      await db?.drop();
    });

    /** A run of `status`, last changed `ageDays` ago, with one action of `action` (and its undo record). */
    async function run(status: RunStatus, ageDays: number, action?: { status: string; undo?: object }) {
      n += 1;
      const id = (await playbooks.createRun({
        playbook: { id: 'p', name: 'P' },
        trigger: 'gateway',
        gateway: 'gw-1',
        gatewayAlert: `a-${n}`,
        status,
      }))!;
      if (action)
        await playbooks.addAction({
          runId: id,
          idx: 0,
          type: 'mqtt_block_address',
          params: { value: '10.0.0.1' },
          gateway: 'gw-1',
          status: action.status as never,
          undo: (action.undo as Record<string, unknown>) ?? null,
        });
      await playbooks.audit({ actor: 'central', what: 'triggered', outcome: status, runId: id });
      await age('playbook_runs', 'updated_at', ageDays, id);
      await age('playbook_audit', 'at', ageDays, id, 'run_id');
      return id;
    }
    async function age(table: string, column: string, days: number, id: number, key = 'id') {
      const at = new Date(NOW.getTime() - days * DAY_MS).toISOString();
      await store!.sql.query(`UPDATE ${table} SET ${column} = $1::timestamptz WHERE ${key} = $2`, [at, id]);
    }
    async function ids(table: string, column = 'id'): Promise<number[]> {
      const { rows } = await store!.sql.query<{ id: string | number }>(
        `SELECT ${column} AS id FROM ${table} ORDER BY 1`,
      );
      return rows.map((r) => Number(r.id));
    }
    async function lifecycle(retention: PlaybooksConfig['retention']) {
      const config = centralConfigSchema.parse({ storage: { type: 'pglite' }, playbooks: { retention } });
      const metrics = createCentralMetrics({ processMetrics: false });
      const logger = createLogger('silent');
      const job = createLifecycleJob({
        store: store!,
        storage: config.storage,
        playbooks: config.playbooks,
        metrics,
        logger,
        centralEvents: createCentralEvents({ store: store!, centralId: 'central', logger, metrics }),
        now: () => NOW,
      });
      const report = await job.run();
      assert.ok(report, 'the lifecycle run succeeded');
      return report.pruned;
    }

    it('defaults to 90 days for runs and 365 for the audit trail', () => {
      const config = centralConfigSchema.parse({ storage: { type: 'pglite' } });
      assert.deepEqual(config.playbooks.retention, { runs_days: 90, audit_days: 365 });
      assert.throws(() => centralConfigSchema.parse({ playbooks: { retention: { runs: 3 } } }), /runs/);
    });

    it('removes old finished runs with their actions and old audit rows; keeps recent and open ones', async (t) => {
      if (!store) return skipUnmet(t);
      const oldDone = await run('done', 100, { status: 'succeeded' });
      const oldFailed = await run('failed', 100, { status: 'failed' });
      const oldRejected = await run('rejected', 100, { status: 'rejected' });
      const oldUndone = await run('done', 100, { status: 'undone', undo: { entry: 'e-1' } });
      const recentDone = await run('done', 10, { status: 'succeeded' });
      const oldPending = await run('pending', 100, { status: 'pending' });
      const oldRunning = await run('running', 100, { status: 'queued' });
      const oldUndoable = await run('done', 100, { status: 'succeeded', undo: { entry: 'e-2' } });
      const oldUndoing = await run('done', 100, { status: 'undoing', undo: { entry: 'e-3' } });
      // The audit row of a run kept, older than the audit retention: kept with its run.
      await age('playbook_audit', 'at', 400, oldUndoable, 'run_id');
      // Audit rows of no run (a playbook created), one old and one recent.
      await playbooks.audit({ actor: 'admin', what: 'created', outcome: 'ok', playbookId: 'p' });
      const [oldCreated] = (await ids('playbook_audit')).slice(-1);
      await age('playbook_audit', 'at', 400, oldCreated!);
      await playbooks.audit({ actor: 'admin', what: 'updated', outcome: 'ok', playbookId: 'p' });
      const auditBefore = await ids('playbook_audit');

      // 0 keeps everything.
      assert.deepEqual(await lifecycle({ runs_days: 0, audit_days: 0 }), {
        alerts: 0,
        outbox: 0,
        audit: 0,
        playbookRuns: 0,
        playbookAudit: 0,
      });
      assert.equal((await ids('playbook_runs')).length, 9);

      const pruned = await lifecycle({ runs_days: 90, audit_days: 365 });
      assert.equal(pruned.playbookRuns, 4);
      const kept = [recentDone, oldPending, oldRunning, oldUndoable, oldUndoing].sort((a, b) => a - b);
      assert.deepEqual(await ids('playbook_runs'), kept);
      assert.deepEqual(
        [...new Set(await ids('playbook_actions', 'run_id'))],
        kept,
        'actions go with their run',
      );
      for (const gone of [oldDone, oldFailed, oldRejected, oldUndone])
        assert.equal(await playbooks.getRun(gone), undefined);

      // Audit: the old row of no run went; the old row of a kept run and every recent row stayed.
      assert.equal(pruned.playbookAudit, 1);
      assert.deepEqual(
        await ids('playbook_audit'),
        auditBefore.filter((id) => id !== oldCreated),
      );
      assert.equal((await playbooks.auditOf({ runId: oldUndoable, limit: 10 })).length, 1);

      // Once a run is gone, its audit rows older than the audit retention go: a run deleted earlier
      // (oldDone), and one undone since and deleted in the same pass as its 400-day-old row.
      await age('playbook_audit', 'at', 400, oldDone, 'run_id');
      await store.sql.query(`UPDATE playbook_actions SET status = 'undone' WHERE run_id = $1`, [oldUndoable]);
      const again = await lifecycle({ runs_days: 90, audit_days: 365 });
      assert.deepEqual(again, { alerts: 0, outbox: 0, audit: 0, playbookRuns: 1, playbookAudit: 2 });
      assert.deepEqual(await playbooks.auditOf({ runId: oldUndoable, limit: 10 }), []);
      assert.deepEqual(await playbooks.auditOf({ runId: oldDone, limit: 10 }), []);
      assert.equal((await playbooks.auditOf({ runId: recentDone, limit: 10 })).length, 1);
    });
  });
