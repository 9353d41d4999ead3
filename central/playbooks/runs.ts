/**
 * Matching a new alert to the enabled playbooks and starting a run of each match: the run and its
 * actions are stored (gateway actions expanded into one block request per target the alert's events
 * name), then executed at once, or left `pending` for an analyst when the playbook asks approval.
 * For an alert a gateway raised itself, gateway actions its set holds are left to it (`edge`).
 */
import {
  type BlockRequest,
  isGatewayAction,
  matchPlaybook,
  type Playbook,
  requestsFor,
  targetsOf,
} from '../../protocols/playbook/schema.ts';
import type { Alert } from '../alerts/types.ts';
import type { PlaybookContext } from './context.ts';
import type { Execution } from './execute.ts';
import type { GatewaySets } from './gateway-sets.ts';
import type { RunAction } from './store.ts';

const splitEventId = (id: string) => {
  const at = id.lastIndexOf(':');
  const seq = id.slice(at + 1);
  return at > 0 && /^\d{1,18}$/.test(seq) ? { gateway: id.slice(0, at), seq } : undefined;
};

export function createRunStarter(ctx: PlaybookContext, { execute, settle }: Execution, sets: GatewaySets) {
  const { sql, store } = ctx;

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
    const edgeRuns =
      fromEdge && alert.gateway !== null && (await sets.gatewayRuns(alert.gateway, playbook.id));
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

  /** Starts a run of each enabled playbook that matches the alert (`actor` raised it). */
  return async (alert: Alert, actor: string) => {
    const facts = { ...alert };
    for (const p of await ctx.playbooks()) {
      if (p.enabled && matchPlaybook(p.match, facts)) await start(p, alert, actor);
    }
  };
}
