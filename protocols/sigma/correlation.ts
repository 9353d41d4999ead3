/**
 * The state machine of one Sigma correlation rule (correlation rules specification, "Correlation
 * Types"), per group-by value, over time passed in by the caller. Two evaluation modes:
 *
 * - sliding: conditions with only a lower bound (`gt`, `gte`) on event_count and value_count, and
 *   temporal / temporal_ordered, fire as soon as the events of the last `timespan` (edges
 *   included) satisfy them, then the group starts afresh. Only what can still matter is kept: the
 *   last n timestamps for `gte: n`, the n most recent distinct values, one time per temporal rule.
 * - window: conditions with an upper bound (`lt`, `lte`, `eq`, `neq`, ranges), value_sum,
 *   value_avg and value_percentile can only be decided when the window is over. A window opens
 *   at a group's first event and is evaluated once `timespan` has passed (on a later event or an
 *   `advance`), or at `flush`.
 *
 * Groups are kept in a Map whose order is the eviction order (least recently touched first for
 * sliding, oldest window first for window mode); at most `maxGroups`, the excess evicted and counted.
 * `snapshot`/`restore` carry open groups across a restart or a rule set swap (SPEC.md "Restarts").
 *
 * This file is the group map and its clock; a group and its snapshot are correlation-group.ts,
 * the condition correlation-condition.ts, and what an event does to a group in each mode
 * correlation-modes.ts.
 */
import type { Event } from '../event/schema.ts';
import { EvictionCursor } from '../event/evict.ts';
import { conditionOf, correlationRefusal } from './correlation-condition.ts';
import {
  type CorrelationHit,
  type CorrelationLimits,
  freshGroup,
  type Group,
  groupFromSnapshot,
  groupSnapshot,
  type GroupSnapshot,
  hitOf,
  keepId,
} from './correlation-group.ts';
import { addSliding, addToWindow, evaluateWindow } from './correlation-modes.ts';
import type { SigmaCorrelationRule } from './types.ts';

export { conditionOf } from './correlation-condition.ts';
export type { CorrelationHit, CorrelationLimits, GroupSnapshot } from './correlation-group.ts';

/** What `advance` returns when nothing is due; never written to. */
const NO_HITS: readonly CorrelationHit[] = Object.freeze([]);

export class CorrelationState {
  readonly mode: 'sliding' | 'window';
  private readonly groups = new Map<string, Group>();
  private readonly oldest = new EvictionCursor(this.groups);
  private readonly cond: { test: (x: number) => boolean; lower?: number };
  private readonly need: number;
  /** Hits of windows closed outside `advance` (out-of-order time), reported by the next `advance`. */
  private pending: CorrelationHit[] = [];
  evicted = 0;

  constructor(
    readonly rule: SigmaCorrelationRule,
    private readonly limits: CorrelationLimits,
  ) {
    this.cond = conditionOf(rule.condition);
    const t = rule.type;
    const temporal = t === 'temporal' || t === 'temporal_ordered';
    this.mode =
      temporal || ((t === 'event_count' || t === 'value_count') && this.cond.lower !== undefined)
        ? 'sliding'
        : 'window';
    this.need = temporal
      ? rule.condition
        ? (this.cond.lower ?? 1)
        : rule.rules.length
      : (this.cond.lower ?? 1);
  }

  /** Why this correlation cannot run within the limits, or undefined. */
  static refusal(rule: SigmaCorrelationRule, limits: CorrelationLimits): string | undefined {
    return correlationRefusal(rule, limits);
  }

  get size(): number {
    return this.groups.size;
  }

  /** Closes windows that ended before `nowMs` and drops sliding groups with nothing left in them. */
  advance(nowMs: number): readonly CorrelationHit[] {
    const span = this.rule.timespanMs;
    // Called once per event per correlation: allocates nothing when nothing is due.
    let out = NO_HITS as CorrelationHit[];
    if (this.pending.length > 0) {
      out = this.pending;
      this.pending = [];
    }
    // From the front through the kept cursor: a fresh iterator per event would walk every hole
    // the deletions left there (protocols/event/evict.ts).
    for (let front = this.oldest.peek(); front; front = this.oldest.peek()) {
      const [key, g] = front;
      if (this.mode === 'window') {
        if (g.firstMs + span >= nowMs) break;
        this.groups.delete(key);
        const hit = evaluateWindow(g, this.rule.type, this.cond);
        if (hit) (out === NO_HITS ? (out = []) : out).push(hit);
      } else {
        if (g.lastMs >= nowMs - span) break;
        this.groups.delete(key);
      }
    }
    return out;
  }

  /** Evaluates every open window now (end of a replay); sliding groups are simply dropped. */
  flush(): CorrelationHit[] {
    const out = this.pending;
    this.pending = [];
    for (const g of this.groups.values()) {
      if (this.mode !== 'window') continue;
      const hit = evaluateWindow(g, this.rule.type, this.cond);
      if (hit) out.push(hit);
    }
    this.groups.clear();
    return out;
  }

  /** The open groups, most recently touched last, at most `max` of them (the latest). */
  snapshot(max: number): GroupSnapshot[] {
    const all = [...this.groups.values()];
    return all.slice(Math.max(0, all.length - max)).map(groupSnapshot);
  }

  /**
   * Loads groups from `snapshot` (possibly an old or damaged file: anything malformed is skipped,
   * never thrown). Returns how many were loaded; groups already open are kept.
   */
  restore(groups: unknown): number {
    if (!Array.isArray(groups)) return 0;
    const n = this.rule.rules.length;
    let loaded = 0;
    for (const raw of groups as unknown[]) {
      if (this.groups.size >= this.limits.maxGroups) break;
      const g = groupFromSnapshot(raw, n, this.limits);
      if (!g || this.groups.has(g.key)) continue;
      this.groups.set(g.key, g);
      this.oldest.moved(g.key);
      loaded++;
    }
    return loaded;
  }

  /**
   * One event matched referenced rule number `ref` (its position in `correlation.rules`), in group
   * `key`, at `t`. `fieldValue` is the condition field's value (value_* types). Returns a hit when
   * the correlation fires now (sliding mode).
   */
  add(
    ref: number,
    key: string,
    group: Record<string, string | null>,
    t: number,
    event: Event,
    fieldValue: unknown,
  ): CorrelationHit | undefined {
    const span = this.rule.timespanMs;
    let g = this.groups.get(key);
    if (g && this.mode === 'window' && g.firstMs + span < t) {
      // Its window is over but `advance` has not reached it (times out of order): close it now.
      this.groups.delete(key);
      const hit = evaluateWindow(g, this.rule.type, this.cond);
      if (hit) this.pending.push(hit);
      g = undefined;
    }
    if (!g) {
      g = freshGroup(key, group, t, event, this.rule.rules.length);
      this.groups.set(key, g);
      this.oldest.moved(key); // the key may have been deleted just now, and seen at the front
      if (this.groups.size > this.limits.maxGroups) {
        this.oldest.evict();
        this.evicted++;
      }
    } else if (this.mode === 'sliding') {
      this.groups.delete(key); // re-insert: the Map stays in least-recently-touched order
      this.groups.set(key, g);
      this.oldest.moved(key);
    }
    g.lastMs = Math.max(g.lastMs, t);
    g.lastEvent = event;
    let fired: number | undefined;
    if (this.mode === 'window') {
      addToWindow(g, this.rule.type, fieldValue, this.limits);
      keepId(g, event.id, this.limits.maxEventIds);
    } else {
      fired = addSliding(g, this.rule, this.need, this.limits, ref, t, event.id, fieldValue);
    }
    if (fired !== undefined) {
      this.groups.delete(key);
      return hitOf(g, fired);
    }
    return undefined;
  }
}
