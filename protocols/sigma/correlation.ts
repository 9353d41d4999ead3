/**
 * The state machine of one Sigma correlation rule (correlation rules specification, "Correlation
 * Types"), per group-by value, over time passed in by the caller. Two evaluation modes:
 *
 * - sliding: conditions with only a lower bound (`gt`, `gte`) on event_count and value_count, and
 *   temporal / temporal_ordered, fire as soon as the events of the last `timespan` (edges
 *   included) satisfy them, then the group starts afresh. Only what can still matter is kept: the
 *   last n timestamps for `gte: n`, the n most recent distinct values, one time per temporal rule.
 * - window: conditions with an upper bound (`lt`, `lte`, `eq`, `neq`, ranges), value_sum,
 *   value_avg and value_percentile can only be decided when the window is over. A window opens at a group's first event
 *   and is evaluated once `timespan` has passed (on a later event or an `advance`), or at `flush`.
 *
 * Groups are kept in a Map whose order is the eviction order (least recently touched first for
 * sliding, oldest window first for window mode); at most `maxGroups`, the excess evicted and counted.
 * `snapshot`/`restore` carry open groups across a restart or a rule set swap (SPEC.md "Restarts").
 */
import type { Event } from '../event/schema.ts';
import { EvictionCursor } from '../event/evict.ts';
import type { CorrelationCondition, SigmaCorrelationRule } from './types.ts';

export interface CorrelationHit {
  groupKey: string;
  group: Record<string, string | null>;
  /** The count, distinct count, number of rules seen, sum or average that met the condition. */
  value: number;
  eventIds: string[];
  firstMs: number;
  lastMs: number;
  /** The event that completed it (window mode: the group's last event). */
  event: Event;
  /** value_percentile: the rare value whose share of the window met the condition. */
  rareValue?: string;
}

/** One open group as plain JSON (Infinity becomes null), for `snapshot`/`restore`. */
export type GroupSnapshot = Omit<Group, 'values' | 'seen' | 'chain'> & {
  values: Array<[string, number]>;
  seen: Array<number | null>;
  chain: Array<{ start: number; ids: string[] } | null>;
};

/** What `advance` returns when nothing is due; never written to. */
const NO_HITS: readonly CorrelationHit[] = Object.freeze([]);

export interface CorrelationLimits {
  maxGroups: number;
  maxEventsPerGroup: number;
  maxEventIds: number;
}

/** A condition as a predicate, and whether it is monotone (only lower bounds). */
export function conditionOf(c: CorrelationCondition | undefined): {
  test: (x: number) => boolean;
  lower?: number;
} {
  if (!c) return { test: () => true };
  const test = (x: number) =>
    (c.gt === undefined || x > c.gt) &&
    (c.gte === undefined || x >= c.gte) &&
    (c.lt === undefined || x < c.lt) &&
    (c.lte === undefined || x <= c.lte) &&
    (c.eq === undefined || x === c.eq) &&
    (c.neq === undefined || x !== c.neq);
  const monotone = c.lt === undefined && c.lte === undefined && c.eq === undefined && c.neq === undefined;
  if (!monotone) return { test };
  const lower = Math.max(
    1,
    c.gte !== undefined ? Math.ceil(c.gte) : 1,
    c.gt !== undefined ? Math.floor(c.gt) + 1 : 1,
  );
  return { test, lower };
}

interface Group {
  key: string;
  group: Record<string, string | null>;
  firstMs: number;
  lastMs: number;
  lastEvent: Event;
  ids: string[];
  times: number[]; // sliding event_count
  values: Map<string, number>; // sliding value_count: value → last time; window: value → events
  count: number; // window mode: events; value_sum/avg: numeric events
  sum: number;
  seen: number[]; // temporal: last time per referenced rule (-Infinity: never)
  seenIds: string[][];
  chain: Array<{ start: number; ids: string[] } | undefined>; // temporal_ordered
}

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
    const cond = conditionOf(rule.condition);
    if (
      (rule.type === 'temporal' || rule.type === 'temporal_ordered') &&
      rule.condition &&
      cond.lower === undefined
    )
      return `a ${rule.type} condition may only give a lower bound (gt, gte)`;
    if (rule.type === 'temporal_ordered' && rule.condition)
      return 'a temporal_ordered correlation takes no condition: all rules must occur in order';
    // Counts need memory up to their bound; sums and averages need none.
    if (
      rule.type === 'value_percentile' &&
      [rule.condition?.gt, rule.condition?.gte, rule.condition?.lt, rule.condition?.lte].some(
        (x) => x !== undefined && (x < 0 || x > 100),
      )
    )
      return 'a value_percentile condition bounds a share of the window in percent (0 to 100)';
    const counted = rule.type === 'event_count' || rule.type === 'value_count';
    const bound = Math.max(
      cond.lower ?? 0,
      rule.condition?.lt ?? 0,
      rule.condition?.lte ?? 0,
      rule.condition?.eq ?? 0,
    );
    if (counted && bound > limits.maxEventsPerGroup)
      return `the condition bound ${bound} is above maxEventsPerGroup (${limits.maxEventsPerGroup})`;
    return undefined;
  }

  get size(): number {
    return this.groups.size;
  }

  private fresh(key: string, group: Record<string, string | null>, t: number, event: Event): Group {
    const n = this.rule.rules.length;
    return {
      key,
      group,
      firstMs: t,
      lastMs: t,
      lastEvent: event,
      ids: [],
      times: [],
      values: new Map(),
      count: 0,
      sum: 0,
      seen: new Array<number>(n).fill(-Infinity),
      seenIds: Array.from({ length: n }, () => []),
      chain: new Array(n).fill(undefined),
    };
  }

  private keepId(g: Group, id: string): void {
    const max = this.limits.maxEventIds;
    if (g.ids.length >= max) g.ids.splice(Math.ceil(max / 2), 1); // keep the first half and the latest
    g.ids.push(id);
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
        const hit = this.evaluateWindow(g);
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
      const hit = this.evaluateWindow(g);
      if (hit) out.push(hit);
    }
    this.groups.clear();
    return out;
  }

  /** The open groups, most recently touched last, at most `max` of them (the latest). */
  snapshot(max: number): GroupSnapshot[] {
    const all = [...this.groups.values()];
    return all.slice(Math.max(0, all.length - max)).map((g) => ({
      ...g,
      values: [...g.values],
      seen: g.seen.map((t) => (Number.isFinite(t) ? t : null)),
      chain: g.chain.map((c) => c ?? null),
    }));
  }

  /**
   * Loads groups from `snapshot` (possibly an old or damaged file: anything malformed is skipped,
   * never thrown). Returns how many were loaded; groups already open are kept.
   */
  restore(groups: unknown): number {
    if (!Array.isArray(groups)) return 0;
    const n = this.rule.rules.length;
    let loaded = 0;
    for (const raw of groups as Array<Partial<GroupSnapshot>>) {
      if (this.groups.size >= this.limits.maxGroups) break;
      const ok =
        raw !== null &&
        typeof raw === 'object' &&
        typeof raw.key === 'string' &&
        isRecord(raw.group) &&
        Number.isFinite(raw.firstMs) &&
        Number.isFinite(raw.lastMs) &&
        isRecord(raw.lastEvent) &&
        isStrings(raw.ids) &&
        Array.isArray(raw.times) &&
        raw.times.every(Number.isFinite) &&
        Array.isArray(raw.values) &&
        raw.values.every((v) => Array.isArray(v) && typeof v[0] === 'string' && Number.isFinite(v[1])) &&
        Number.isFinite(raw.count) &&
        Number.isFinite(raw.sum) &&
        Array.isArray(raw.seen) &&
        raw.seen.length === n &&
        Array.isArray(raw.seenIds) &&
        raw.seenIds.length === n &&
        raw.seenIds.every(isStrings) &&
        Array.isArray(raw.chain) &&
        raw.chain.length === n;
      if (!ok || this.groups.has(raw.key!)) continue;
      const g = raw as GroupSnapshot;
      this.groups.set(g.key, {
        key: g.key,
        group: g.group,
        firstMs: g.firstMs,
        lastMs: g.lastMs,
        lastEvent: g.lastEvent,
        ids: g.ids.slice(-this.limits.maxEventIds),
        times: g.times.slice(-this.limits.maxEventsPerGroup),
        values: new Map(g.values.slice(-this.limits.maxEventsPerGroup)),
        count: g.count,
        sum: g.sum,
        seen: g.seen.map((t) => (typeof t === 'number' && Number.isFinite(t) ? t : -Infinity)),
        seenIds: g.seenIds.map((ids) => ids.slice(-this.limits.maxEventIds)),
        chain: g.chain.map((c) =>
          c && typeof c === 'object' && Number.isFinite(c.start) && isStrings(c.ids) ? c : undefined,
        ),
      });
      this.oldest.moved(g.key);
      loaded++;
    }
    return loaded;
  }

  private evaluateWindow(g: Group): CorrelationHit | undefined {
    const t = this.rule.type;
    if (t === 'value_percentile') return this.evaluatePercentile(g);
    const value =
      t === 'event_count'
        ? g.count
        : t === 'value_count'
          ? g.values.size
          : t === 'value_sum'
            ? g.sum
            : g.count > 0
              ? g.sum / g.count
              : NaN;
    if (Number.isNaN(value) || !this.cond.test(value)) return undefined;
    return this.hit(g, value);
  }

  /**
   * value_percentile (correlation specification: "a process name that appeared in less than 1%
   * of all the processes"): the share, in percent of the group's events in the window, of each
   * value of the condition field; the rarest value whose share meets the condition fires, and is
   * named in the hit (`rareValue`).
   */
  private evaluatePercentile(g: Group): CorrelationHit | undefined {
    if (g.count === 0) return undefined;
    let best: { value: string; share: number } | undefined;
    for (const [value, n] of g.values) {
      const share = (100 * n) / g.count;
      if (this.cond.test(share) && (!best || share < best.share)) best = { value, share };
    }
    if (!best) return undefined;
    return { ...this.hit(g, best.share), rareValue: best.value };
  }

  private hit(g: Group, value: number): CorrelationHit {
    return {
      groupKey: g.key,
      group: g.group,
      value,
      eventIds: g.ids,
      firstMs: g.firstMs,
      lastMs: g.lastMs,
      event: g.lastEvent,
    };
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
      const hit = this.evaluateWindow(g);
      if (hit) this.pending.push(hit);
      g = undefined;
    }
    if (!g) {
      g = this.fresh(key, group, t, event);
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
    const fired =
      this.mode === 'window'
        ? this.addWindow(g, fieldValue)
        : this.addSliding(g, ref, t, event.id, fieldValue);
    if (this.mode === 'window') this.keepId(g, event.id);
    if (fired !== undefined) {
      this.groups.delete(key);
      return this.hit(g, fired);
    }
    return undefined;
  }

  private addWindow(g: Group, fieldValue: unknown): undefined {
    const t = this.rule.type;
    if (t === 'event_count') g.count++;
    else if (t === 'value_count') {
      if (fieldValue !== null && fieldValue !== undefined && g.values.size <= this.limits.maxEventsPerGroup)
        g.values.set(String(fieldValue), 1);
    } else if (t === 'value_percentile') {
      if (fieldValue === null || fieldValue === undefined) return undefined;
      const v = String(fieldValue);
      g.count++;
      // Distinct values are bounded; beyond the bound a new value still counts in the total.
      const n = g.values.get(v);
      if (n !== undefined) g.values.set(v, n + 1);
      else if (g.values.size < this.limits.maxEventsPerGroup) g.values.set(v, 1);
    } else {
      const n =
        typeof fieldValue === 'number'
          ? fieldValue
          : typeof fieldValue === 'string'
            ? Number(fieldValue)
            : NaN;
      if (Number.isFinite(n)) {
        g.sum += n;
        g.count++;
      }
    }
    return undefined;
  }

  /** Sliding mode; returns the value when the condition is met. */
  private addSliding(g: Group, ref: number, t: number, id: string, fieldValue: unknown): number | undefined {
    const span = this.rule.timespanMs;
    const from = t - span;
    switch (this.rule.type) {
      case 'event_count': {
        g.times.push(t);
        this.keepId(g, id);
        while (g.times.length > 0 && g.times[0]! < from) g.times.shift();
        if (g.times.length > this.need) g.times.shift();
        return g.times.length >= this.need ? g.times.length : undefined;
      }
      case 'value_count': {
        if (fieldValue === null || fieldValue === undefined) return undefined;
        const v = String(fieldValue);
        g.values.delete(v);
        g.values.set(v, t);
        this.keepId(g, id);
        for (const [k, at] of g.values) {
          if (at >= from) break;
          g.values.delete(k);
        }
        if (g.values.size > this.need) g.values.delete(g.values.keys().next().value as string);
        return g.values.size >= this.need ? g.values.size : undefined;
      }
      case 'temporal': {
        g.seen[ref] = t;
        const ids = g.seenIds[ref]!;
        if (ids.length >= this.limits.maxEventIds) ids.shift();
        ids.push(id);
        const present = g.seen.filter((s) => s >= from).length;
        if (present < this.need) return undefined;
        g.ids = g.seenIds.flatMap((list, i) => (g.seen[i]! >= from ? list.slice(-1) : []));
        return present;
      }
      case 'temporal_ordered': {
        const last = this.rule.rules.length - 1;
        if (ref === 0) g.chain[0] = { start: t, ids: [id] };
        else {
          const prev = g.chain[ref - 1];
          if (!prev || prev.start < from) return undefined;
          const cur = g.chain[ref];
          if (!cur || prev.start >= cur.start) g.chain[ref] = { start: prev.start, ids: [...prev.ids, id] };
        }
        const done = g.chain[last];
        if (ref !== last || !done || done.start < from) return undefined;
        g.ids = done.ids;
        g.firstMs = done.start;
        return this.rule.rules.length;
      }
      default:
        return undefined;
    }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
