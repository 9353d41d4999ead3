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
 */
import type { Logger } from 'pino';
import type { Event } from '../../protocols/event/schema.ts';
import {
  type CommandMessage,
  type CommandResultMessage,
  type PlaybooksMessage,
  type PlaybooksStatusMessage,
  playbookSetVersion,
} from '../../protocols/link/codec.ts';
import {
  type BlockRequest,
  blockRequestSchema,
  type CentralAction,
  edgePart,
  type EdgePlaybook,
  GATEWAY_ACTION_TYPES,
  isGatewayAction,
  matchPlaybook,
  type Playbook,
  requestsFor,
  targetsOf,
} from '../../protocols/playbook/schema.ts';
import type { AuthStore } from '../../server-shared/web-auth/types.ts';
import type { Alert } from '../alerts/types.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { SinkConfig } from '../sinks/config.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { createCentralActions } from './central-actions.ts';
import { createPlaybookStore, type RunAction } from './store.ts';

export interface PlaybooksOptions {
  sql: SqlClient;
  auth: AuthStore;
  sinks: Record<string, SinkConfig>;
  registry: GatewayRegistry;
  /** Sends a playbook set or a command to a connected v3 gateway; false when it is not. */
  send: (gateway: string, message: PlaybooksMessage | CommandMessage) => boolean;
  logger: Logger;
  metrics?: CentralMetrics;
  env?: NodeJS.ProcessEnv;
}

/** What a gateway last said about the playbook set (GET /api/playbooks/gateways). */
export interface GatewayPlaybookState {
  gateway: string;
  assigned_version: string;
  running_version: string | null;
  ok: boolean | null;
  error: string | null;
  reported_at: string | null;
}

export class PlaybookError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

const KNOWN_TYPES: ReadonlySet<string> = new Set([
  ...GATEWAY_ACTION_TYPES,
  'webhook',
  'disable_user',
  'disable_token',
  'open_incident',
]);

const splitEventId = (id: string) => {
  const at = id.lastIndexOf(':');
  const seq = id.slice(at + 1);
  return at > 0 && /^\d{1,18}$/.test(seq) ? { gateway: id.slice(0, at), seq } : undefined;
};

export function createPlaybooks(options: PlaybooksOptions) {
  const { sql, logger } = options;
  const base = createPlaybookStore(sql);
  // Every action's change of status is counted (type bounded: a gateway's report names any text).
  const count = (a: RunAction | undefined) => {
    if (!a) return a;
    const type = KNOWN_TYPES.has(a.type) ? a.type : 'other';
    options.metrics?.playbookActions.inc({ type, outcome: a.status });
    return a;
  };
  const store: typeof base = {
    ...base,
    addAction: async (a) => count(await base.addAction(a)),
    setAction: async (id, patch, from) => count(await base.setAction(id, patch, from)),
  };
  const central = createCentralActions({ sql, auth: options.auth, sinks: options.sinks, env: options.env });
  let cache: Playbook[] | undefined;
  const reports = new Map<string, GatewayPlaybookState>();
  /** Alert handling in order, one at a time (runs are keyed per alert; order keeps the audit readable). */
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const playbooks = async () => (cache ??= await store.list());
  const fail = (what: string) => (error: Error) => logger.error({ err: error.message }, what);

  /** The set one gateway runs: enabled, approval-free playbooks with gateway actions, not site-bound. */
  const setFor = async (gateway: string): Promise<PlaybooksMessage> => {
    const edge: EdgePlaybook[] = [];
    for (const p of await playbooks()) {
      const part = edgePart(p);
      if (!part || (p.match.sites?.length ?? 0) > 0) continue;
      if (p.match.gateways && p.match.gateways.length > 0 && !p.match.gateways.includes(gateway)) continue;
      edge.push(part);
    }
    return { type: 'playbooks', version: playbookSetVersion(edge), playbooks: edge };
  };

  /** Whether a gateway reports running the set that holds this playbook. */
  const gatewayRuns = async (gateway: string, playbookId: string) => {
    const set = await setFor(gateway);
    return (
      reports.get(gateway)?.running_version === set.version && set.playbooks.some((p) => p.id === playbookId)
    );
  };

  const push = async (actor: string) => {
    const gateways = (await options.registry.list()).filter((g) => g.status === 'active');
    const sent: Array<{ id: string; version: string; sent: boolean }> = [];
    for (const g of gateways) {
      const message = await setFor(g.id);
      sent.push({ id: g.id, version: message.version, sent: options.send(g.id, message) });
    }
    await store.audit({ actor, what: 'pushed', outcome: 'ok', detail: { gateways: sent } });
    return sent;
  };

  /** Who the alert's triggering events name (source address, MQTT client ids). */
  const targetsOfAlert = async (alert: Alert) => {
    const parts = alert.event_ids
      .slice(0, 50)
      .map(splitEventId)
      .filter((p) => p !== undefined);
    if (parts.length === 0) return targetsOf([]);
    const { rows } = await sql.query<{ src_ip: string | null; client_id: string | null }>(
      `SELECT e.src_ip, CASE WHEN e.source = 'mqtt' THEN e.fields->>'client_id' END AS client_id FROM events e
         JOIN unnest($1::text[], $2::bigint[]) AS k (gateway, seq) ON e.gateway = k.gateway AND e.seq = k.seq`,
      [parts.map((p) => p.gateway), parts.map((p) => p.seq)],
    );
    return targetsOf(rows);
  };

  const command = (action: RunAction, op: 'apply' | 'undo'): CommandMessage | undefined => {
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
  };

  /** Carries out one stored action (approved or needing none). */
  const execute = async (action: RunAction, playbook: Playbook, runId: number, alert: Alert | undefined) => {
    if (blockRequestSchema.safeParse(action.params).success) {
      if (!action.gateway) {
        await store.setAction(action.id, { status: 'failed', error: 'the alert names no gateway' });
        return;
      }
      const message = command(action, 'apply')!;
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
  };

  /** Marks a run done or failed once none of its actions is still moving. */
  const settle = async (runId: number) => {
    const run = await store.getRun(runId);
    if (!run || run.status !== 'running') return;
    if (run.actions.some((a) => ['pending', 'queued', 'sent'].includes(a.status))) return;
    await store.setRun(
      runId,
      { status: run.actions.some((a) => a.status === 'failed') ? 'failed' : 'done' },
      'running',
    );
  };

  /** One run of `playbook` for `alert`: its actions stored, then executed unless approval is needed. */
  const start = async (playbook: Playbook, alert: Alert, actor: string) => {
    const fromEdge = actor.startsWith('gateway:');
    const runId = await store.createRun({
      playbook,
      trigger: 'central',
      alertId: alert.id,
      gateway: alert.gateway,
      ruleId: alert.rule_id,
      // Pending only once its actions are stored: an approval never meets a run without them.
      status: 'running',
    });
    if (runId === undefined) return; // this playbook ran for this alert already
    await store.audit({
      actor,
      what: 'triggered',
      outcome: playbook.approval ? 'awaiting approval' : 'running',
      playbookId: playbook.id,
      runId,
      detail: { alert_id: alert.id, rule_id: alert.rule_id },
    });
    const needsTargets = playbook.actions.some(isGatewayAction);
    const edgeRuns = fromEdge && alert.gateway !== null && (await gatewayRuns(alert.gateway, playbook.id));
    const targets = needsTargets ? await targetsOfAlert(alert) : { clientIds: [] };
    const stored: RunAction[] = [];
    for (const [idx, action] of playbook.actions.entries()) {
      if (!isGatewayAction(action)) {
        const a = await store.addAction({ runId, idx, type: action.type, params: action, status: 'pending' });
        if (a) stored.push(a);
        continue;
      }
      // The gateway that raised the alert runs the playbook itself when its set holds it (SPEC §9.2);
      // else (an older gateway, a set not applied yet) central sends the command.
      if (edgeRuns) {
        await store.addAction({
          runId,
          idx,
          type: action.type,
          params: action,
          gateway: alert.gateway,
          status: 'edge',
        });
        continue;
      }
      const requests: BlockRequest[] = requestsFor(action, targets);
      if (requests.length === 0) {
        await store.addAction({
          runId,
          idx,
          type: action.type,
          params: action,
          gateway: alert.gateway,
          status: 'skipped',
          error: 'the alert names no target for this action',
        });
        continue;
      }
      for (const r of requests) {
        const a = await store.addAction({
          runId,
          idx,
          type: r.type,
          params: r,
          gateway: alert.gateway,
          status: 'pending',
        });
        if (a) stored.push(a);
      }
    }
    if (playbook.approval) {
      await store.setRun(runId, { status: 'pending' }, 'running');
      return;
    }
    for (const a of stored) await execute(a, playbook, runId, alert);
    await settle(runId);
  };

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
    const name = (await playbooks()).find((p) => p.id === f.playbook_id)?.name ?? f.playbook_id;
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

  return {
    store,

    /** Called after a new alert committed (`actor` raised it: `gateway:<id>` for an edge alert). */
    onAlert(alert: Alert, actor: string): Promise<void> {
      return serial(async () => {
        const facts = { ...alert };
        for (const p of await playbooks()) {
          if (p.enabled && matchPlaybook(p.match, facts)) await start(p, alert, actor);
        }
      }).catch(fail('playbook run failed'));
    },

    /** Stored events: the gateways' reports of what their playbooks did. */
    onEvents(events: readonly Event[]): void {
      const mine = events.filter((e) => e.action === 'gateway.playbook_action' && e.source === 'gateway');
      if (mine.length === 0) return;
      void serial(async () => {
        for (const e of mine) await recordEvent(e);
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
      cache = undefined;
      await store.audit({
        actor,
        what: create ? 'created' : 'updated',
        outcome: 'ok',
        playbookId: p.id,
        detail: { playbook: p },
      });
      await push(actor);
      return saved;
    },

    async remove(id: string, actor: string) {
      if (!(await store.remove(id))) throw new PlaybookError(404, 'no such playbook');
      cache = undefined;
      await store.audit({ actor, what: 'deleted', outcome: 'ok', playbookId: id });
      await push(actor);
    },

    push,

    /** An analyst approves a pending run: its actions are carried out now. */
    async approve(runId: number, actor: string) {
      if (!(await store.setRun(runId, { status: 'running', decided_by: actor }, 'pending')))
        throw new PlaybookError((await store.getRun(runId)) ? 409 : 404, 'no pending run with this id');
      await store.audit({ actor, what: 'approved', outcome: 'ok', runId });
      const run = (await store.getRun(runId))!;
      const playbook = (await playbooks()).find((p) => p.id === run.playbook_id) ?? {
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
        const message = command(action, 'undo');
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

    async gatewayStates(): Promise<GatewayPlaybookState[]> {
      const gateways = (await options.registry.list()).filter((g) => g.status === 'active');
      const out: GatewayPlaybookState[] = [];
      for (const g of gateways) {
        const r = reports.get(g.id);
        out.push({
          gateway: g.id,
          assigned_version: (await setFor(g.id)).version,
          running_version: r?.running_version ?? null,
          ok: r?.ok ?? null,
          error: r?.error ?? null,
          reported_at: r?.reported_at ?? null,
        });
      }
      return out;
    },

    /** The link's side (central/link/session.ts LinkPlaybooks). */
    link: {
      async offer(gateway: string, running: string | undefined) {
        reports.set(gateway, {
          gateway,
          assigned_version: '',
          running_version: running ?? null,
          ok: null,
          error: null,
          reported_at: new Date().toISOString(),
        });
        const set = await setFor(gateway);
        return set.version === running ? undefined : set;
      },
      status(gateway: string, message: PlaybooksStatusMessage) {
        reports.set(gateway, {
          gateway,
          assigned_version: message.requested,
          running_version: message.version ?? null,
          ok: message.ok,
          error: message.error ?? null,
          reported_at: new Date().toISOString(),
        });
        if (!message.ok) logger.warn({ gateway, error: message.error }, 'a gateway refused its playbook set');
      },
      commandResult(gateway: string, message: CommandResultMessage) {
        const m = /^([au])-(\d+)$/.exec(message.command_id);
        if (!m) return;
        void serial(() =>
          commandOutcome(
            Number(m[2]),
            m[1] === 'a' ? 'apply' : 'undo',
            message.ok,
            message.entry,
            message.error,
          ),
        ).catch(fail(`could not record the outcome of command ${message.command_id} from ${gateway}`));
      },
      ready(gateway: string) {
        void serial(async () => {
          for (const a of await store.waiting(gateway)) {
            const message = command(a, a.status === 'undoing' ? 'undo' : 'apply');
            if (!message || !options.send(gateway, message)) continue;
            if (a.status === 'queued') await store.setAction(a.id, { status: 'sent' }, ['queued']);
          }
        }).catch(fail('could not send the waiting commands'));
      },
    },
  };
}

export type Playbooks = ReturnType<typeof createPlaybooks>;
