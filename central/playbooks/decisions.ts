/**
 * What an analyst decides about a run: approving a pending run (its pending actions are carried out
 * now), rejecting it (they are marked rejected), and undoing one action that changed something (a
 * gateway's block lifted by an `undo` command, a central action reverted here). Each is audited.
 */
import { blockRequestSchema, type Playbook } from '../../protocols/playbook/schema.ts';
import type { Alert } from '../alerts/types.ts';
import { type PlaybookContext, PlaybookError } from './context.ts';
import { commandFor, type Execution } from './execute.ts';

export function createDecisions(ctx: PlaybookContext, { execute, settle }: Execution) {
  const { sql, store, central, options } = ctx;

  const alertOf = async (id: number | null): Promise<Alert | undefined> => {
    if (id === null) return undefined;
    const { rows } = await sql.query<Record<string, unknown>>('SELECT * FROM alerts WHERE id = $1', [id]);
    const r = rows[0];
    if (!r) return undefined;
    const t = (d: unknown) => new Date(d as string).toISOString();
    return {
      ...(r as unknown as Alert),
      id: Number(r.id),
      count: Number(r.count),
      first_seen: t(r.first_seen),
      last_seen: t(r.last_seen),
      created_at: t(r.created_at),
      updated_at: t(r.updated_at),
    };
  };

  return {
    /** An analyst approves a pending run: its actions are carried out now. */
    async approve(runId: number, actor: string) {
      if (!(await store.setRun(runId, { status: 'running', decided_by: actor }, 'pending')))
        throw new PlaybookError((await store.getRun(runId)) ? 409 : 404, 'no pending run with this id');
      await store.audit({ actor, what: 'approved', outcome: 'ok', runId });
      const run = (await store.getRun(runId))!;
      const playbook = (await ctx.playbooks()).find((p) => p.id === run.playbook_id) ?? {
        id: run.playbook_id,
        name: run.playbook_name,
      };
      const alert = await alertOf(run.alert_id);
      for (const a of run.actions.filter((x) => x.status === 'pending'))
        await execute(a, playbook as Playbook, runId, alert);
      await settle(runId);
      return (await store.getRun(runId))!;
    },

    async reject(runId: number, actor: string, reason: string | null) {
      if (!(await store.setRun(runId, { status: 'rejected', decided_by: actor, reason }, 'pending')))
        throw new PlaybookError((await store.getRun(runId)) ? 409 : 404, 'no pending run with this id');
      const run = (await store.getRun(runId))!;
      for (const a of run.actions.filter((x) => x.status === 'pending'))
        await store.setAction(a.id, { status: 'rejected' }, ['pending']);
      await store.audit({ actor, what: 'rejected', outcome: 'ok', runId, detail: { reason } });
      return (await store.getRun(runId))!;
    },

    /** Undoes one action that changed something (unblock, re-enable, restore). */
    async undo(actionId: number, actor: string) {
      const action = await store.getAction(actionId);
      if (!action) throw new PlaybookError(404, 'no such action');
      if (action.status !== 'succeeded' && action.status !== 'undo_failed')
        throw new PlaybookError(409, `an action that is ${action.status} cannot be undone`);
      await store.audit({ actor, what: 'undo_requested', outcome: 'ok', runId: action.run_id, actionId });
      if (blockRequestSchema.safeParse(action.params).success && action.gateway) {
        const message = commandFor(action, 'undo');
        if (!message) throw new PlaybookError(409, 'the gateway reported no entry to undo');
        await store.setAction(actionId, { status: 'undoing', undoneBy: actor }, ['succeeded', 'undo_failed']);
        options.send(action.gateway, message);
        return (await store.getAction(actionId))!;
      }
      const outcome = await central.undo(action.type, action.undo, actor);
      const updated = await store.setAction(
        actionId,
        outcome.ok
          ? { status: 'undone', error: null, undoneBy: actor }
          : { status: 'undo_failed', error: outcome.error },
        ['succeeded', 'undo_failed'],
      );
      await store.audit({
        actor,
        what: 'undone',
        outcome: outcome.ok ? 'ok' : 'failed',
        runId: action.run_id,
        actionId,
        detail: outcome.ok ? { note: outcome.note ?? null } : { error: outcome.error },
      });
      if (!outcome.ok) throw new PlaybookError(409, outcome.error);
      return updated!;
    },
  };
}
