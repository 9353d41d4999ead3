/**
 * The playbook set of each gateway (SPEC §9.2): which enabled, approval-free playbooks with gateway
 * actions it should run, pushing the sets after a change, and what each gateway last said it runs
 * (kept in memory from the link's offer and status; GET /api/playbooks/gateways).
 */
import {
  type PlaybooksMessage,
  type PlaybooksStatusMessage,
  playbookSetVersion,
} from '../../protocols/link/codec.ts';
import { edgePart, type EdgePlaybook } from '../../protocols/playbook/schema.ts';
import type { PlaybookContext } from './context.ts';

/** What a gateway last said about the playbook set (GET /api/playbooks/gateways). */
export interface GatewayPlaybookState {
  gateway: string;
  assigned_version: string;
  running_version: string | null;
  ok: boolean | null;
  error: string | null;
  reported_at: string | null;
}

export function createGatewaySets({ options, store, logger, playbooks }: PlaybookContext) {
  const reports = new Map<string, GatewayPlaybookState>();

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

  return {
    setFor,

    /** Whether a gateway reports running the set that holds this playbook. */
    async gatewayRuns(gateway: string, playbookId: string) {
      const set = await setFor(gateway);
      return (
        reports.get(gateway)?.running_version === set.version &&
        set.playbooks.some((p) => p.id === playbookId)
      );
    },

    /** Sends each active gateway its set; audited with what was sent to whom. */
    async push(actor: string) {
      const gateways = (await options.registry.list()).filter((g) => g.status === 'active');
      const sent: Array<{ id: string; version: string; sent: boolean }> = [];
      for (const g of gateways) {
        const message = await setFor(g.id);
        sent.push({ id: g.id, version: message.version, sent: options.send(g.id, message) });
      }
      await store.audit({ actor, what: 'pushed', outcome: 'ok', detail: { gateways: sent } });
      return sent;
    },

    async states(): Promise<GatewayPlaybookState[]> {
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

    /** A gateway connected, running `running`: its set when that differs. */
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

    /** A gateway applied (or refused) the set it was sent. */
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
  };
}

export type GatewaySets = ReturnType<typeof createGatewaySets>;
