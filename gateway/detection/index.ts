/**
 * Edge detection: loads the Sigma rules (detection rules, correlations and filters) from the
 * configured directories into one pure engine, runs it over every event the gateway queues —
 * offline too: nothing here needs central — and turns the engine's alerts into `alert` events,
 * which travel first after an outage (the alert lane). Time is the event's own clock, so replay
 * detects exactly as live traffic; a timer advances the clock when the network is quiet so that
 * correlation windows still close.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Event, EventSource, PendingEvent } from '../../protocols/event/schema.ts';
import {
  createSigmaEngine,
  loadSigma,
  mergeLoadResults,
  type SigmaAlert,
  type SigmaEngine,
  type SigmaError,
} from '../../protocols/sigma/index.ts';

export interface DetectionOptions {
  rulesDirs: readonly string[];
  fieldMap?: Record<string, string>;
  logsources?: Record<string, EventSource[]>;
  alertWindowMs?: number;
}

export interface LoadedDetection {
  engine: SigmaEngine;
  files: string[];
  /** Rules and files refused, each with the reason (the rest still runs). */
  errors: Array<{ file?: string; message: string }>;
}

const RULE_FILE = /\.ya?ml$/i;

function ruleFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...ruleFiles(full));
    else if (RULE_FILE.test(entry.name)) out.push(full);
  }
  return out.sort();
}

/** Loads every rule file under the directories; unreadable directories are errors, not crashes. */
export function loadDetection(options: DetectionOptions): LoadedDetection {
  const errors: LoadedDetection['errors'] = [];
  const files: string[] = [];
  for (const dir of options.rulesDirs) {
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      files.push(...ruleFiles(dir));
    } catch (error) {
      errors.push({ file: dir, message: `cannot read rules directory: ${(error as Error).message}` });
    }
  }
  const results = files.map((file) => loadSigma(readFileSync(file, 'utf8'), { source: file }));
  const merged = mergeLoadResults(results);
  const engine = createSigmaEngine(merged, {
    fieldMap: options.fieldMap,
    // The gateway's and central's own events (new devices, evictions, refusals) have logsources too.
    logsources: { 'product:gateway': ['gateway'], 'product:central': ['central'], ...options.logsources },
    alertWindowMs: options.alertWindowMs,
  });
  const describe = (e: SigmaError) => ({
    file: e.document !== undefined ? String(e.document) : undefined,
    message: `${e.rule ? `${e.rule}: ` : ''}${e.message}`,
  });
  errors.push(...merged.errors.map(describe), ...engine.errors.map(describe));
  return { engine, files, errors };
}

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
