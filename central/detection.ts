/**
 * Detection on central. Two inputs become alerts in the alert queue (central/alerts):
 * - the alerts gateways raised at the edge, which arrive as `alert` events (rule, ATT&CK ids,
 *   device, triggering event ids, and later an update with the final count of the group);
 * - central's own Sigma engine (`detection.rules_dirs`, e.g. rules/central), which sees every
 *   stored event from every gateway and so can correlate across devices, sites and gateways.
 * Each stored event is seen once: a re-sent batch repeats events, so ids already handled are
 * remembered (bounded). The engine's clock is the events' own (corrected) time; a timer advances
 * it when nothing arrives, so correlation windows still close.
 */
import type { Logger } from 'pino';
import type { Event } from '../protocols/event/schema.ts';
import type { SigmaAlert } from '../protocols/sigma/index.ts';
import { type LoadedRules, loadRuleDirectories } from '../protocols/sigma/rules-dir.ts';
import type { Alerts } from './alerts/index.ts';
import type { AlertInput } from './alerts/types.ts';

const SEEN_MAX = 200_000;

export interface CentralDetectionOptions {
  rulesDirs: string[];
  alertWindowMs: number;
  alerts: () => Alerts;
  logger: Logger;
}

export function createCentralDetection(options: CentralDetectionOptions) {
  const loaded: LoadedRules | undefined =
    options.rulesDirs.length > 0
      ? loadRuleDirectories({ rulesDirs: options.rulesDirs, alertWindowMs: options.alertWindowMs })
      : undefined;
  for (const e of loaded?.errors ?? []) options.logger.warn({ file: e.file }, 'rule refused: %s', e.message);
  const seen = new Set<string>();
  let chain = Promise.resolve();

  const raise = (input: AlertInput, actor: string) =>
    options
      .alerts()
      .raise(input, actor)
      .catch((error: Error) => options.logger.error({ err: error.message }, 'could not raise an alert'));

  /** An alert a gateway raised at the edge. */
  const fromGateway = (event: Event): AlertInput | undefined => {
    const threat = event.threat;
    if (!threat) return undefined;
    const f = event.fields as { count?: unknown; event_ids?: unknown; entity?: unknown };
    const total = typeof f.count === 'number' ? f.count : 1;
    // `alert.raised` is the first hit; `alert.updated` closes the group with its total count.
    const count = event.action === 'alert.updated' ? total - 1 : 1;
    if (count < 1) return undefined;
    const host =
      event.host ?? (event.device ? undefined : typeof f.entity === 'string' ? f.entity : event.gateway);
    return {
      rule: {
        id: threat.rule_id,
        title: threat.rule_name ?? threat.rule_id,
        severity: event.severity,
        techniques: threat.techniques,
      },
      entity: {
        ...(event.device && { device_id: event.device.id }),
        ...(host && { host }),
        gateway: event.gateway,
      },
      event_ids: Array.isArray(f.event_ids) ? (f.event_ids as string[]).slice(0, 1000) : [],
      count,
      at: event.ts,
    };
  };

  const fromEngine = (alert: SigmaAlert): AlertInput => ({
    rule: { id: alert.rule.id, title: alert.rule.title, level: alert.level, techniques: alert.techniques },
    entity: {
      ...(alert.entity.device && { device_id: alert.entity.device }),
      ...(alert.entity.host || !alert.entity.device ? { host: alert.entity.host ?? alert.entity.key } : {}),
      ...(alert.entity.gateway && { gateway: alert.entity.gateway }),
    },
    event_ids: alert.event_ids,
    count: alert.kind === 'new' ? 1 : Math.max(1, alert.count - 1),
    at: new Date(alert.last_ms).toISOString(),
  });

  const handle = async (events: Event[]) => {
    for (const event of events) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value!);
      if (event.kind === 'alert') {
        const input = event.source === 'gateway' ? fromGateway(event) : undefined;
        if (input) await raise(input, `gateway:${event.gateway}`);
        continue;
      }
      if (!loaded || event.source === 'central') continue;
      const at = Date.parse(event.ts);
      for (const alert of loaded.engine.process(event, Number.isFinite(at) ? at : Date.now())) {
        if (alert.kind === 'update' && alert.count <= 1) continue;
        await raise(fromEngine(alert), 'central:detection');
      }
    }
  };

  const timer = setInterval(() => {
    if (!loaded) return;
    chain = chain.then(async () => {
      for (const alert of loaded.engine.advance(Date.now())) {
        if (alert.kind === 'update' && alert.count <= 1) continue;
        await raise(fromEngine(alert), 'central:detection');
      }
    });
  }, 5000);
  timer.unref();

  return {
    rules: loaded?.engine.ruleSet.rules.length ?? 0,
    errors: loaded?.errors ?? [],
    /** Called with every committed batch; work is queued so batches are handled in order. */
    onStored(events: Event[]): void {
      chain = chain.then(() => handle(events));
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await chain;
    },
  };
}
