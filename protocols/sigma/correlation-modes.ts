/**
 * How one event updates a Sigma correlation group, in each of the engine's two modes
 * (correlation.ts): window mode counts, sums and tallies values until the window is over and is
 * then evaluated once; sliding mode keeps only what can still matter within `timespan` and says
 * at each event whether the condition holds now (event_count, value_count, temporal,
 * temporal_ordered; correlation rules specification, "Correlation Types").
 */
import {
  type CorrelationLimits,
  type Group,
  hitOf,
  keepId,
  type CorrelationHit,
} from './correlation-group.ts';
import type { SigmaCorrelationRule } from './types.ts';

type Condition = { test: (x: number) => boolean; lower?: number };

/** Window mode: adds the event's contribution; the verdict waits for the window's end. */
export function addToWindow(
  g: Group,
  type: SigmaCorrelationRule['type'],
  fieldValue: unknown,
  limits: CorrelationLimits,
): void {
  if (type === 'event_count') g.count++;
  else if (type === 'value_count') {
    if (fieldValue !== null && fieldValue !== undefined && g.values.size <= limits.maxEventsPerGroup)
      g.values.set(String(fieldValue), 1);
  } else if (type === 'value_percentile') {
    if (fieldValue === null || fieldValue === undefined) return;
    const v = String(fieldValue);
    g.count++;
    // Distinct values are bounded; beyond the bound a new value still counts in the total.
    const n = g.values.get(v);
    if (n !== undefined) g.values.set(v, n + 1);
    else if (g.values.size < limits.maxEventsPerGroup) g.values.set(v, 1);
  } else {
    const n =
      typeof fieldValue === 'number' ? fieldValue : typeof fieldValue === 'string' ? Number(fieldValue) : NaN;
    if (Number.isFinite(n)) {
      g.sum += n;
      g.count++;
    }
  }
}

/** Window mode: the hit of a window that is over, if its condition holds. */
export function evaluateWindow(
  g: Group,
  type: SigmaCorrelationRule['type'],
  cond: Condition,
): CorrelationHit | undefined {
  if (type === 'value_percentile') return evaluatePercentile(g, cond);
  const value =
    type === 'event_count'
      ? g.count
      : type === 'value_count'
        ? g.values.size
        : type === 'value_sum'
          ? g.sum
          : g.count > 0
            ? g.sum / g.count
            : NaN;
  if (Number.isNaN(value) || !cond.test(value)) return undefined;
  return hitOf(g, value);
}

/**
 * value_percentile (correlation specification: "a process name that appeared in less than 1%
 * of all the processes"): the share, in percent of the group's events in the window, of each
 * value of the condition field; the rarest value whose share meets the condition fires, and is
 * named in the hit (`rareValue`).
 */
function evaluatePercentile(g: Group, cond: Condition): CorrelationHit | undefined {
  if (g.count === 0) return undefined;
  let best: { value: string; share: number } | undefined;
  for (const [value, n] of g.values) {
    const share = (100 * n) / g.count;
    if (cond.test(share) && (!best || share < best.share)) best = { value, share };
  }
  if (!best) return undefined;
  return { ...hitOf(g, best.share), rareValue: best.value };
}

/**
 * Sliding mode: adds event `id` at `t` for referenced rule `ref`; returns the value when the
 * condition is met now (`need`: the count, distinct values or rules that meet it).
 */
export function addSliding(
  g: Group,
  rule: SigmaCorrelationRule,
  need: number,
  limits: CorrelationLimits,
  ref: number,
  t: number,
  id: string,
  fieldValue: unknown,
): number | undefined {
  const from = t - rule.timespanMs;
  switch (rule.type) {
    case 'event_count': {
      g.times.push(t);
      keepId(g, id, limits.maxEventIds);
      while (g.times.length > 0 && g.times[0]! < from) g.times.shift();
      if (g.times.length > need) g.times.shift();
      return g.times.length >= need ? g.times.length : undefined;
    }
    case 'value_count': {
      if (fieldValue === null || fieldValue === undefined) return undefined;
      const v = String(fieldValue);
      g.values.delete(v);
      g.values.set(v, t);
      keepId(g, id, limits.maxEventIds);
      for (const [k, at] of g.values) {
        if (at >= from) break;
        g.values.delete(k);
      }
      if (g.values.size > need) g.values.delete(g.values.keys().next().value as string);
      return g.values.size >= need ? g.values.size : undefined;
    }
    case 'temporal': {
      g.seen[ref] = t;
      const ids = g.seenIds[ref]!;
      if (ids.length >= limits.maxEventIds) ids.shift();
      ids.push(id);
      const present = g.seen.filter((s) => s >= from).length;
      if (present < need) return undefined;
      g.ids = g.seenIds.flatMap((list, i) => (g.seen[i]! >= from ? list.slice(-1) : []));
      return present;
    }
    case 'temporal_ordered': {
      const last = rule.rules.length - 1;
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
      return rule.rules.length;
    }
    default:
      return undefined;
  }
}
