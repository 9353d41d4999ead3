/**
 * Sigma detection for `siem-gateway replay --rules DIR`: the same engine as live traffic, on the
 * replayed file's clock. Each alert names its triggering events with the frame (capture) or line
 * (log) they came from, so an analyst can go straight to the evidence.
 */
import type { Event } from '../../protocols/event/schema.ts';
import { EvictionCursor } from '../../protocols/event/evict.ts';
import type { SigmaAlert, SigmaEngine } from '../../protocols/sigma/index.ts';
import type { ReplayAlert, ReplayDetector } from './index.ts';

/** Locations remembered for the most recent events (alerts name at most a few dozen). */
const MAX_REMEMBERED = 200_000;

export function createReplayDetector(engine: SigmaEngine): {
  detector: ReplayDetector;
  finish: () => ReplayAlert[];
} {
  const where = new Map<string, { frame?: number; line?: number; file?: string }>();
  const oldest = new EvictionCursor(where);
  const describe = (alert: SigmaAlert): ReplayAlert => ({
    ts: new Date(alert.last_ms).toISOString(),
    alert_id: alert.id,
    kind: alert.kind,
    rule_id: alert.rule.id,
    rule_title: alert.rule.title,
    rule_type: alert.rule.type,
    level: alert.level,
    severity: alert.severity,
    techniques: alert.techniques,
    tactics: alert.tactics,
    entity: alert.entity,
    count: alert.count,
    event_ids: alert.event_ids,
    events: alert.event_ids.map((id) => ({ id, ...where.get(id) })),
    ...(alert.correlation && { correlation: alert.correlation }),
  });
  const detector: ReplayDetector = (event: Event, now: Date) => {
    const f = event.fields as { frame?: unknown; line?: unknown; file?: unknown };
    where.set(event.id, {
      ...(typeof f.frame === 'number' && { frame: f.frame }),
      ...(typeof f.line === 'number' && { line: f.line }),
      ...(typeof f.file === 'string' && { file: f.file }),
    });
    if (where.size > MAX_REMEMBERED) oldest.evict();
    return engine.process(event, now.getTime()).map(describe);
  };
  return { detector, finish: () => engine.flush().map(describe) };
}
