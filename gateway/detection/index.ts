/**
 * Edge detection: loads the Sigma rules (detection rules, correlations and filters) from the
 * configured directories into one pure engine, runs it over every event the gateway queues —
 * offline too: nothing here needs central — and turns the engine's alerts into `alert` events,
 * which travel first after an outage (the alert lane). Time is the event's own clock, so replay
 * detects exactly as live traffic; a timer advances the clock when the network is quiet so that
 * correlation windows still close.
 */
import { encodeAlertEvent } from '../../protocols/event/alert.ts';
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

/** An engine alert as an `Event` (kind `alert`), ready for the queue: protocols/event/alert.ts. */
export function alertToEvent(alert: SigmaAlert, received: Date): PendingEvent {
  return encodeAlertEvent(alert, received);
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
