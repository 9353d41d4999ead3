/**
 * Response playbooks on central (issue 21 ask 4). Each new alert is matched against the enabled
 * playbooks; a match is a run, which either waits for an analyst's approval (every action
 * `pending`) or acts at once. Central actions run here (central-actions.ts); gateway actions are
 * sent to the alert's gateway as link commands (SPEC §9.3), queued while it is offline. A playbook
 * that needs no approval is also pushed to the gateways (SPEC §9.2), which run its gateway actions
 * on their own alerts, offline too: for an alert a gateway raised itself central leaves those
 * actions to it (status `edge`) and learns what it did from its `gateway.playbook_action` audit
 * events, recorded as runs of their own. Every step is audited (store.ts), and every action that
 * changed something can be undone.
 *
 * This file assembles the service and keeps the playbook list (create, replace, delete); the jobs
 * are in their own files: runs.ts (alerts to runs), execute.ts (carrying out actions),
 * decisions.ts (approve, reject, undo), gateway-reports.ts (what gateways report back),
 * gateway-sets.ts (each gateway's set and its state), context.ts (what they share).
 */
import type { Event } from '../../protocols/event/schema.ts';
import type {
  CommandMessage,
  CommandResultMessage,
  PlaybooksStatusMessage,
} from '../../protocols/link/codec.ts';
import type { Playbook } from '../../protocols/playbook/schema.ts';
import type { Alert } from '../alerts/types.ts';
import { createCentralActions } from './central-actions.ts';
import {
  countingStore,
  type PlaybookContext,
  PlaybookError,
  type PlaybooksOptions,
  serialChain,
} from './context.ts';
import { createDecisions } from './decisions.ts';
import { createExecution } from './execute.ts';
import { createGatewayReports } from './gateway-reports.ts';
import { createGatewaySets, type GatewayPlaybookState } from './gateway-sets.ts';
import { createRunStarter } from './runs.ts';
import { createPlaybookStore } from './store.ts';
import { createTableChanges } from '../store/table-changes.ts';

export { PlaybookError, type PlaybooksOptions } from './context.ts';
export type { GatewayPlaybookState } from './gateway-sets.ts';

export function createPlaybooks(options: PlaybooksOptions) {
  const { sql, logger } = options;
  const changes = options.changes ?? createTableChanges();
  const store = countingStore(createPlaybookStore(sql, changes), options.metrics);
  const central = createCentralActions({ sql, auth: options.auth, sinks: options.sinks, env: options.env });
  let cache: Playbook[] | undefined;
  /** Bumped by each change: a list read before it is not kept. */
  let generation = 0;
  // Any write of the playbooks table, on this node (as soon as it committed) or another one.
  changes.on('playbooks', () => {
    generation += 1;
    cache = undefined;
  });
  const playbooks = async () => {
    if (cache) return cache;
    const at = generation;
    const list = await store.list();
    if (at === generation) cache = list;
    return list;
  };
  const ctx: PlaybookContext = { options, sql, logger, store, central, playbooks };
  const serial = serialChain();
  const fail = (what: string) => (error: Error) => logger.error({ err: error.message }, what);
  const sets = createGatewaySets(ctx);
  const execution = createExecution(ctx);
  const runFor = createRunStarter(ctx, execution, sets);
  const decisions = createDecisions(ctx, execution);
  const reports = createGatewayReports(ctx, execution);

  return {
    store,

    /** Called after a new alert committed (`actor` raised it: `gateway:<id>` for an edge alert). */
    onAlert(alert: Alert, actor: string): Promise<void> {
      return serial(() => runFor(alert, actor)).catch(fail('playbook run failed'));
    },

    /** Stored events: the gateways' reports of what their playbooks did. */
    onEvents(events: readonly Event[]): void {
      const mine = events.filter((e) => e.action === 'gateway.playbook_action' && e.source === 'gateway');
      if (mine.length === 0) return;
      void serial(async () => {
        for (const e of mine) await reports.recordEvent(e);
      }).catch(fail('could not record a gateway playbook action'));
    },

    async list() {
      return playbooks();
    },

    /** Creates or replaces a playbook (webhook sinks must exist), then pushes the gateways' sets. */
    async put(p: Playbook, actor: string, create: boolean) {
      for (const a of p.actions)
        if (a.type === 'webhook' && !central.hasWebhook(a.sink))
          throw new PlaybookError(
            400,
            `actions: no webhook sink ${a.sink} in central's config (sinks.${a.sink})`,
          );
      if (create && (await store.count()) >= 500) throw new PlaybookError(409, 'at most 500 playbooks');
      const saved = await store.put(p, actor, create);
      if (!saved)
        throw create
          ? new PlaybookError(409, `playbook ${p.id} exists`)
          : new PlaybookError(404, 'no such playbook');
      await store.audit({
        actor,
        what: create ? 'created' : 'updated',
        outcome: 'ok',
        playbookId: p.id,
        detail: { playbook: p },
      });
      await sets.push(actor);
      return saved;
    },

    async remove(id: string, actor: string) {
      if (!(await store.remove(id))) throw new PlaybookError(404, 'no such playbook');
      await store.audit({ actor, what: 'deleted', outcome: 'ok', playbookId: id });
      await sets.push(actor);
    },

    push: sets.push,
    approve: decisions.approve,
    reject: decisions.reject,
    undo: decisions.undo,

    gatewayStates(): Promise<GatewayPlaybookState[]> {
      return sets.states();
    },

    /** Several nodes (central/cluster ClusterPlaybooks): what another node asks this one to send. */
    cluster: {
      command(gateway: string, commandId: string, send: (message: CommandMessage) => boolean) {
        void serial(() => reports.sendRelayed(gateway, commandId, send)).catch(
          fail(`could not send command ${commandId} relayed for ${gateway}`),
        );
      },
      /**
       * The set is asked after a change made on another node; its table notice came first (one
       * listening connection delivers notices in commit order), so the cached list is fresh.
       */
      setFor: (gateway: string) => sets.setFor(gateway),
    },

    /** The link's side (central/link/session.ts LinkPlaybooks). */
    link: {
      offer: (gateway: string, running: string | undefined) => sets.offer(gateway, running),
      status: (gateway: string, message: PlaybooksStatusMessage) => sets.status(gateway, message),
      commandResult(gateway: string, message: CommandResultMessage) {
        const m = /^([au])-(\d+)$/.exec(message.command_id);
        if (!m) return;
        void serial(() =>
          reports.commandOutcome(
            Number(m[2]),
            m[1] === 'a' ? 'apply' : 'undo',
            message.ok,
            message.entry,
            message.error,
          ),
        ).catch(fail(`could not record the outcome of command ${message.command_id} from ${gateway}`));
      },
      ready(gateway: string) {
        void serial(() => reports.sendWaiting(gateway)).catch(fail('could not send the waiting commands'));
      },
    },
  };
}

export type Playbooks = ReturnType<typeof createPlaybooks>;
