/**
 * What an open correlation group keeps of its last event (`lastEvent`, the event a hit names):
 * the attributes the alert's entity reads (`entityOf`: id, gateway, device, host, src) and those
 * read by every correlation it feeds, directly or down a chain, through their group-by and
 * condition fields. A group lives for its timespan; holding whole events there kept each matching
 * event's message, fields and tags alive into V8's old space, whose collections were most of the
 * gateway's CPU per event (issue 18). Attributes are kept by reference: what a getter reads from
 * the kept event is what it read from the whole one.
 */
import type { Event } from '../event/schema.ts';

const ENTITY_ATTRIBUTES = ['id', 'gateway', 'device', 'host', 'src'];

/**
 * The top-level attributes each correlation's groups keep. `pathsOf` gives a correlation's Event
 * paths per reference (position in `correlation.rules`: its group-by and condition fields),
 * `consumersOf` the correlations it feeds and as which reference. Chains are acyclic (plan.ts
 * refuses cycles); a cycle here would only end the walk early.
 */
export function keptAttributes<P>(
  plans: readonly P[],
  pathsOf: (plan: P) => ReadonlyArray<readonly string[]>,
  consumersOf: (plan: P) => ReadonlyArray<{ plan: P; ref: number }> | undefined,
): Map<P, readonly string[]> {
  const memo = new Map<P, Set<string>>();
  const keep = (plan: P): Set<string> => {
    let out = memo.get(plan);
    if (out) return out;
    out = new Set(ENTITY_ATTRIBUTES);
    memo.set(plan, out);
    for (const { plan: next, ref } of consumersOf(plan) ?? []) {
      for (const path of pathsOf(next)[ref] ?? []) {
        const head = path.split('.')[0]!;
        out.add(head);
        // A field outside the Event's attributes is read from `fields`, for Windows events by `source`.
        if (head === 'fields') out.add('source');
      }
      for (const a of keep(next)) out.add(a);
    }
    return out;
  };
  return new Map(plans.map((p) => [p, [...keep(p)]]));
}

/** The kept attributes of `event` (those it has), sharing their values. */
export function keepOf(event: Event, attributes: readonly string[]): Event {
  const out: Record<string, unknown> = {};
  for (const a of attributes)
    if (Object.hasOwn(event, a)) out[a] = (event as unknown as Record<string, unknown>)[a];
  return out as unknown as Event;
}
