/**
 * `aggregate`: folds matching events into one summary event per key per interval (pipeline
 * clock): how many, first and last seen, count/min/max/avg/last of chosen numeric paths (a
 * number, or an object of numbers such as MQTT `fields.values`), and the distinct values of
 * chosen paths. A window is released when its interval has passed (`flush`), when the key table
 * is full (the oldest window goes early), and on stop: nothing folded is lost. The summary keeps
 * the first event's source, kind, device and host; its action is `summary_action` or the folded
 * action + `_summary`; the detail is in `fields.aggregate` (protocols/event/SPEC.md).
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EvictionCursor } from '../../../protocols/event/evict.ts';
import { keyer, pathReader, type Predicate } from '../match.ts';
import type { Stage, StageContext } from '../stage.ts';

export const MAX_WINDOWS = 10_000;
export const MAX_DISTINCT = 32;

export interface Stat {
  count: number;
  min: number;
  max: number;
  sum: number;
  last: number;
}

export function addStat(stats: Map<string, Stat>, name: string, value: number): void {
  const st = stats.get(name);
  if (!st) stats.set(name, { count: 1, min: value, max: value, sum: value, last: value });
  else {
    st.count++;
    if (value < st.min) st.min = value;
    if (value > st.max) st.max = value;
    st.sum += value;
    st.last = value;
  }
}

export function statsObject(stats: Map<string, Stat>) {
  const out: Record<string, { count: number; min: number; max: number; avg: number; last: number }> = {};
  for (const [name, s] of stats)
    out[name] = { count: s.count, min: s.min, max: s.max, avg: s.sum / s.count, last: s.last };
  return out;
}

interface Window {
  first: PendingEvent;
  sinceMs: number;
  firstTs: string;
  lastTs: string;
  count: number;
  severity: number;
  stats: Map<string, Stat>;
  distinct: Map<string, Set<string>>;
}

export interface AggregateOptions {
  name: string;
  matches: Predicate;
  key: readonly string[];
  intervalSecs: number;
  numbers: readonly string[];
  distinct: readonly string[];
  summaryAction?: string;
}

export function createAggregateStage(options: AggregateOptions): Stage {
  const windows = new Map<string, Window>();
  const oldest = new EvictionCursor(windows);
  const intervalMs = options.intervalSecs * 1000;
  const keyOf = keyer(options.key);
  const keyPaths = options.key.map((p) => [p, pathReader(p)] as const);
  const numbers = options.numbers.map((p) => [p, pathReader(p)] as const);
  const distinctPaths = options.distinct.map((p) => [p, pathReader(p)] as const);

  const summary = (key: string, w: Window, nowMs: number): PendingEvent => {
    const keyValues: Record<string, unknown> = {};
    for (const [p, read] of keyPaths) keyValues[p] = read(w.first) ?? null;
    const distinct: Record<string, string[]> = {};
    for (const [p, set] of w.distinct) distinct[p] = [...set];
    const at = new Date(nowMs).toISOString();
    const action = options.summaryAction ?? `${w.first.action}_summary`;
    void key;
    return {
      ts: w.firstTs,
      received: at,
      time_source: 'gateway',
      source: w.first.source,
      kind: w.first.kind,
      action,
      severity: w.severity,
      message: `${w.count} × ${w.first.action} from ${w.firstTs} to ${w.lastTs}`,
      ...(w.first.host !== undefined && { host: w.first.host }),
      ...(w.first.device && { device: w.first.device }),
      fields: {
        aggregate: {
          stage: options.name,
          summary_of: w.first.action,
          count: w.count,
          first_seen: w.firstTs,
          last_seen: w.lastTs,
          interval_secs: options.intervalSecs,
          key: keyValues,
          ...(w.stats.size > 0 && { stats: statsObject(w.stats) }),
          ...(w.distinct.size > 0 && { distinct }),
        },
      },
      tags: ['summary'],
    };
  };

  const fold = (w: Window, event: PendingEvent) => {
    w.count++;
    w.lastTs = event.ts;
    if (event.severity < w.severity) w.severity = event.severity;
    for (const [p, read] of numbers) {
      const v = read(event);
      if (typeof v === 'number') {
        if (Number.isFinite(v)) addStat(w.stats, p, v);
      } else if (v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [k, x] of Object.entries(v as Record<string, unknown>))
          if (typeof x === 'number' && Number.isFinite(x)) addStat(w.stats, `${p}.${k}`, x);
      }
    }
    for (const [p, read] of distinctPaths) {
      const v = read(event);
      if (v === undefined || v === null) continue;
      let set = w.distinct.get(p);
      if (!set) w.distinct.set(p, (set = new Set()));
      if (set.size < MAX_DISTINCT) set.add(typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
  };

  return {
    name: options.name,
    type: 'aggregate',
    dropReason: 'aggregated',
    process(event, ctx) {
      if (!options.matches(event)) return event;
      const key = keyOf(event);
      let w = windows.get(key);
      if (w && ctx.nowMs - w.sinceMs >= intervalMs) {
        windows.delete(key);
        ctx.emit(summary(key, w, ctx.nowMs));
        w = undefined;
      }
      if (!w) {
        if (windows.size >= MAX_WINDOWS) {
          const [k, early] = oldest.evict() ?? [];
          if (k !== undefined && early) ctx.emit(summary(k, early, ctx.nowMs));
        }
        w = {
          first: event,
          sinceMs: ctx.nowMs,
          firstTs: event.ts,
          lastTs: event.ts,
          count: 0,
          severity: event.severity,
          stats: new Map(),
          distinct: new Map(),
        };
        windows.set(key, w);
      }
      fold(w, event);
      return null;
    },
    flush(ctx: StageContext, final: boolean) {
      for (const [key, w] of windows) {
        if (!final && ctx.nowMs - w.sinceMs < intervalMs) continue;
        windows.delete(key);
        ctx.emit(summary(key, w, ctx.nowMs));
      }
    },
  };
}
