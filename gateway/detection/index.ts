/**
 * Edge detection: loads the Sigma rules (detection rules, correlations and filters) from the
 * configured directories into one pure engine, runs it over every event the gateway queues —
 * offline too: nothing here needs central — and turns the engine's alerts into `alert` events,
 * which travel first after an outage (the alert lane). Time is the event's own clock, so replay
 * detects exactly as live traffic; a timer advances the clock when the network is quiet so that
 * correlation windows still close.
 */
import type { Event, PendingEvent } from '../../protocols/event/schema.ts';
import type { SigmaAlert, SigmaEngine } from '../../protocols/sigma/index.ts';
import {
  type LoadedRules,
  loadRuleDirectories,
  type RuleDirectoryOptions,
} from '../../protocols/sigma/rules-dir.ts';

export type DetectionOptions = RuleDirectoryOptions;
export type LoadedDetection = LoadedRules;

/** Loads every rule file under the directories; unreadable directories are errors, not crashes. */
export const loadDetection = loadRuleDirectories;

/** An engine alert as an `Event` (kind `alert`), ready for the queue. */
export function alertToEvent(alert: SigmaAlert, received: Date): PendingEvent {
  const entity = alert.entity;
  return {
    ts: new Date(alert.last_ms).toISOString(),
    received: received.toISOString(),
    source: 'gateway',
    kind: 'alert',
    action: alert.kind === 'new' ? 'alert.raised' : 'alert.updated',
    severity: alert.severity,
    message: alert.count > 1 ? `${alert.rule.title} (${alert.count} times)` : alert.rule.title,
    ...(entity.host && { host: entity.host }),
    ...(entity.device && { device: { id: entity.device } }),
    threat: { rule_id: alert.rule.id, rule_name: alert.rule.title, techniques: alert.techniques },
    fields: {
      alert_id: alert.id,
      rule_type: alert.rule.type,
      level: alert.level,
      tactics: alert.tactics,
      entity: entity.key,
      count: alert.count,
      event_ids: alert.event_ids,
      first_seen: new Date(alert.first_ms).toISOString(),
      last_seen: new Date(alert.last_ms).toISOString(),
      ...(alert.correlation && { correlation: alert.correlation }),
    },
    tags: ['alert'],
  };
}

/** Runs the engine over queued events; alerts are not fed back in. */
export function detect(engine: SigmaEngine, events: readonly Event[], now: Date): PendingEvent[] {
  const out: PendingEvent[] = [];
  for (const event of events) {
    if (event.kind === 'alert') continue;
    const ts = Date.parse(event.ts);
    for (const alert of engine.process(event, Number.isFinite(ts) ? ts : now.getTime())) {
      out.push(alertToEvent(alert, now));
    }
  }
  return out;
}
