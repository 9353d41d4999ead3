/**
 * Carrying out a run's actions: a gateway action (a block request) becomes a link command to the
 * alert's gateway (SPEC §9.3), `sent` or `queued` while it is offline; a central action runs here
 * (central-actions.ts) and is `succeeded` or `failed` at once. A run settles when no action moves.
 */
import { type CommandMessage } from '../../protocols/link/codec.ts';
import { blockRequestSchema, type CentralAction, type Playbook } from '../../protocols/playbook/schema.ts';
import type { Alert } from '../alerts/types.ts';
import type { PlaybookContext } from './context.ts';
import type { RunAction } from './store.ts';

/** The link command that applies or undoes a gateway action (ids `a-<action>` and `u-<action>`). */
export function commandFor(action: RunAction, op: 'apply' | 'undo'): CommandMessage | undefined {
  if (op === 'undo') {
    const entry = action.undo?.entry;
    return typeof entry === 'string'
      ? { type: 'command', command_id: `u-${action.id}`, op, entry }
      : undefined;
  }
  const request = blockRequestSchema.safeParse(action.params);
  return request.success
    ? { type: 'command', command_id: `a-${action.id}`, op, request: request.data }
    : undefined;
}

export function createExecution({ options, store, central }: PlaybookContext) {
  return {
    /** Carries out one stored action (approved or needing none). */
    async execute(action: RunAction, playbook: Playbook, runId: number, alert: Alert | undefined) {
      if (blockRequestSchema.safeParse(action.params).success) {
        if (!action.gateway) {
          await store.setAction(action.id, { status: 'failed', error: 'the alert names no gateway' });
          return;
        }
        const message = commandFor(action, 'apply')!;
        const sent = options.send(action.gateway, message);
        await store.setAction(action.id, { status: sent ? 'sent' : 'queued' }, ['pending', 'queued']);
        await store.audit({
          actor: 'central',
          what: 'executed',
          outcome: sent ? 'sent' : 'queued',
          playbookId: playbook.id,
          runId,
          actionId: action.id,
          detail: { gateway: action.gateway, request: message.op === 'apply' ? message.request : null },
        });
        return;
      }
      const outcome = await central
        .run(action.params as CentralAction, {
          playbook: { id: playbook.id, name: playbook.name },
          runId,
          actionId: action.id,
          alert,
        })
        .catch((error: Error) => ({ ok: false as const, error: error.message }));
      await store.setAction(
        action.id,
        outcome.ok
          ? { status: 'succeeded', error: null, undo: outcome.undo }
          : { status: 'failed', error: outcome.error },
      );
      await store.audit({
        actor: 'central',
        what: 'executed',
        outcome: outcome.ok ? 'ok' : 'failed',
        playbookId: playbook.id,
        runId,
        actionId: action.id,
        detail: outcome.ok
          ? { type: action.type, note: outcome.note ?? null }
          : { type: action.type, error: outcome.error },
      });
    },

    /** Marks a run done or failed once none of its actions is still moving. */
    async settle(runId: number) {
      const run = await store.getRun(runId);
      if (!run || run.status !== 'running') return;
      if (run.actions.some((a) => ['pending', 'queued', 'sent'].includes(a.status))) return;
      await store.setRun(
        runId,
        { status: run.actions.some((a) => a.status === 'failed') ? 'failed' : 'done' },
        'running',
      );
    },
  };
}

export type Execution = ReturnType<typeof createExecution>;
