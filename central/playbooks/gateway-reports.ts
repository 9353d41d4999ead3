/**
 * What gateways tell central about playbook actions: the result of a command central sent (on the
 * link, or in the queued `gateway.playbook_action` audit event when the answer was lost), a block an
 * admin lifted on the gateway itself, and the runs a gateway's own playbooks made (trigger local),
 * recorded as runs of their own. Also the commands that waited for a gateway, sent when it is back.
 */
import type { Event } from '../../protocols/event/schema.ts';
import type { CommandMessage } from '../../protocols/link/codec.ts';
import type { PlaybookContext } from './context.ts';
import { commandFor, type Execution } from './execute.ts';
import type { RunAction } from './store.ts';

export function createGatewayReports(ctx: PlaybookContext, { settle }: Execution) {
  const { store, options } = ctx;

  /** The gateway's answer to command `a-<id>` (apply) or `u-<id>` (undo). */
  const commandOutcome = async (
    actionId: number,
    op: 'apply' | 'undo',
    ok: boolean,
    entry: string | undefined,
    error: unknown,
  ) => {
    const action = await store.getAction(actionId);
    if (!action) return;
    const updated =
      op === 'apply'
        ? await store.setAction(
            actionId,
            ok
              ? { status: 'succeeded', error: null, undo: entry ? { entry } : null }
              : { status: 'failed', error: String(error ?? 'refused') },
            ['sent', 'queued'],
          )
        : await store.setAction(
            actionId,
            ok
              ? { status: 'undone', error: null }
              : { status: 'undo_failed', error: String(error ?? 'refused') },
            ['undoing'],
          );
    if (!updated) return;
    await store.audit({
      actor: `gateway:${action.gateway}`,
      what: op === 'apply' ? 'executed' : 'undone',
      outcome: ok ? 'ok' : 'failed',
      runId: action.run_id,
      actionId,
      detail: ok ? { entry: entry ?? null } : { error: String(error ?? 'refused') },
    });
    await settle(action.run_id);
  };

  /** A local run reported by a gateway's audit event (trigger local), or a command's late outcome. */
  const recordEvent = async (event: Event) => {
    const f = event.fields as Record<string, unknown>;
    const ok = f.outcome === 'ok';
    if (f.trigger === 'central') {
      // The answer to a command may have been lost with the link; the queued event still says it.
      const m = /^a-(\d+)$/.exec(String(f.command_id ?? ''));
      if (m && f.op === 'apply')
        await commandOutcome(
          Number(m[1]),
          'apply',
          ok,
          typeof f.entry === 'string' ? f.entry : undefined,
          f.error,
        );
      return;
    }
    if (f.trigger === 'gateway_api' && f.op === 'undo' && typeof f.entry === 'string') {
      // An admin lifted the block on the gateway itself (its link may have been down).
      const by = `gateway:${event.gateway}/${String(f.actor ?? '-').slice(0, 64)}`;
      for (const a of await store.byEntry(event.gateway, f.entry)) {
        const done = await store.setAction(a.id, { status: 'undone', error: null, undoneBy: by }, [
          'succeeded',
          'undo_failed',
          'undoing',
        ]);
        if (done)
          await store.audit({
            actor: by,
            what: 'undone',
            outcome: 'ok',
            runId: a.run_id,
            actionId: a.id,
            detail: { event_id: event.id },
          });
      }
      return;
    }
    if (f.trigger !== 'local' || typeof f.playbook_id !== 'string') return;
    const gatewayAlert = typeof f.alert_id === 'string' ? f.alert_id : event.id;
    const name = (await ctx.playbooks()).find((p) => p.id === f.playbook_id)?.name ?? f.playbook_id;
    const runId =
      (await store.createRun({
        playbook: { id: f.playbook_id, name },
        trigger: 'gateway',
        gateway: event.gateway,
        gatewayAlert,
        ruleId: typeof f.rule_id === 'string' ? f.rule_id : null,
        status: 'done',
      })) ?? (await store.findLocalRun(f.playbook_id, event.gateway, gatewayAlert));
    if (runId === undefined) return;
    const params: Record<string, unknown> = { type: f.type };
    if (typeof f.value === 'string') params.value = f.value;
    if (typeof f.source_name === 'string') params.source = f.source_name;
    const added = await store.addAction({
      runId,
      idx: typeof f.index === 'number' ? f.index : 0,
      type: String(f.type ?? 'unknown').slice(0, 64),
      params,
      gateway: event.gateway,
      status: ok ? 'succeeded' : 'failed',
      error: ok ? null : String(f.error ?? 'failed').slice(0, 1000),
      undo: ok && typeof f.entry === 'string' ? { entry: f.entry } : null,
      eventId: event.id,
    });
    if (!added) return; // a batch sent again
    await store.audit({
      actor: `gateway:${event.gateway}`,
      what: 'executed',
      outcome: ok ? 'ok' : 'failed',
      playbookId: f.playbook_id,
      runId,
      actionId: added.id,
      detail: { event_id: event.id, ...params, ...(ok ? { entry: f.entry } : { error: f.error }) },
    });
    if (!ok) await store.setRun(runId, { status: 'failed' });
  };

  /**
   * Sends the command of a waiting action. An apply is claimed first (`from` → sent, back to queued
   * when the gateway is not there after all), so that two senders (a relay from another node and
   * the gateway's reconnection, or two reconnections) never apply it twice: the gateway does not
   * dedupe command ids. An undo is sent as is: undoing an entry already gone changes nothing.
   */
  const sendAction = async (
    a: RunAction,
    from: RunAction['status'][],
    send: (message: CommandMessage) => boolean,
  ) => {
    if (a.status === 'undoing') {
      const message = commandFor(a, 'undo');
      if (message) send(message);
      return;
    }
    const message = commandFor(a, 'apply');
    if (!message || !(await store.setAction(a.id, { status: 'sent' }, from))) return;
    if (!send(message)) await store.setAction(a.id, { status: 'queued' }, ['sent']);
  };

  return {
    recordEvent,
    commandOutcome,

    /** Sends the commands that waited for `gateway` (queued applies, undos in progress). */
    async sendWaiting(gateway: string) {
      for (const a of await store.waiting(gateway))
        await sendAction(a, ['queued'], (m) => options.send(gateway, m));
    },

    /**
     * Several nodes (central/cluster): command `commandId`, relayed by the node that executed or
     * undid the action, for `gateway` connected here. The action in the store says what to send.
     */
    async sendRelayed(gateway: string, commandId: string, send: (message: CommandMessage) => boolean) {
      const m = /^([au])-(\d{1,15})$/.exec(commandId);
      if (!m) return;
      const action = await store.getAction(Number(m[2]));
      if (!action || action.gateway !== gateway) return;
      if (m[1] === 'u') {
        if (action.status === 'undoing') await sendAction(action, [], send);
        return;
      }
      // The relay may arrive before the executing node recorded the action as queued.
      if (action.status === 'pending' && (await store.getRun(action.run_id))?.status !== 'running') return;
      await sendAction(action, ['pending', 'queued'], send);
    },
  };
}
