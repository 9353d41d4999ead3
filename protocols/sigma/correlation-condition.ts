/**
 * The condition of a Sigma correlation rule (correlation rules specification, "Condition") as a
 * predicate, and what the engine refuses to run: conditions the type cannot take, and counts
 * whose bound is above the memory a group may hold. Whether a condition only gives a lower bound
 * decides how correlation.ts evaluates it (sliding, as soon as it holds; or at the window's end).
 */
import type { CorrelationLimits } from './correlation-group.ts';
import type { CorrelationCondition, SigmaCorrelationRule } from './types.ts';

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

/** Why this correlation cannot run within the limits, or undefined. */
export function correlationRefusal(
  rule: SigmaCorrelationRule,
  limits: CorrelationLimits,
): string | undefined {
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
