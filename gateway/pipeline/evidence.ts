/**
 * Alert evidence across reduction. Detection sees every observation before any stage reduces
 * it, so an alert may name events that a later stage sampled, aggregated or dropped. Each event
 * detection sees gets an observation id; the queue's real id replaces it once the event is
 * durable, and an event held back by a reduction stage is kept here instead. When an alert is
 * raised, its event ids are resolved: queued ones to their real ids, held-back ones are forwarded
 * with the alert (tagged `evidence`, in the alert lane) so the SOC can always see why. Bounded:
 * the real ids of the `max` most recent observations and the `maxHeld` most recent held-back
 * events are remembered (an event costs about a kilobyte of a Pi's 64 MB heap, an id a few dozen
 * bytes); evidence older than that is counted as missing and named by its observation id.
 */
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { EvictionCursor } from '../../protocols/event/evict.ts';
import { type EventIds, idList } from '../queue/types.ts';

export const EVIDENCE_REMEMBERED = 20_000;
export const EVIDENCE_HELD = 2_000;

/**
 * Where an event keeps its observation number: a property of the event itself, non-enumerable so
 * that no copy (`{ ...event }`, Object.assign, JSON, the queue's encoding) takes it along: a copy
 * is another observation unless a stage's copy is `carry`-ed. It was a WeakMap entry per event,
 * which every collection then had to trace as an ephemeron. The symbol is per evidence, as the
 * WeakMap was: two pipelines (replay beside a running gateway) never read each other's numbers.
 */
type Numbered = PendingEvent & Record<symbol, number | undefined>;

export function createEvidence({
  max = EVIDENCE_REMEMBERED,
  maxHeld = EVIDENCE_HELD,
  prefix = `obs-${Date.now().toString(36)}-`,
} = {}) {
  /** Event → its observation number (the id is `<prefix><number>`), see Numbered. */
  const OBSERVATION = Symbol('observation');
  /**
   * Only for an event that takes no property (frozen, sealed); asked only once used (a WeakMap
   * lookup gives the event an identity hash, stored in the event).
   */
  let fallback: WeakMap<object, number> | undefined;
  const numberFor = (event: PendingEvent): number | undefined =>
    (event as Numbered)[OBSERVATION] ?? fallback?.get(event);
  const setNumber = (event: PendingEvent, n: number): void => {
    if (Object.hasOwn(event, OBSERVATION)) (event as Numbered)[OBSERVATION] = n;
    else if (Object.isExtensible(event))
      Object.defineProperty(event, OBSERVATION, { value: n, writable: true, enumerable: false });
    else (fallback ??= new WeakMap()).set(event, n);
  };
  /**
   * Observation number → the real id once queued, in a ring indexed by number: slot `n % max`
   * holds observation `n` until observation `n + max` is queued. No map entry, no eviction and
   * no string per event (this runs for every event the gateway sees, and an entry lives long
   * enough to reach the old generation): the ids of the write it was queued in, and its place.
   */
  const knownN = new Float64Array(max);
  const knownIds: Array<EventIds | undefined> = new Array<EventIds | undefined>(max);
  const knownAt = new Float64Array(max);
  const numberOf = (id: string): number => {
    if (!id.startsWith(prefix)) return 0;
    const n = Number(id.slice(prefix.length));
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  };
  const knownFor = (n: number): string | undefined =>
    n > 0 && knownN[n % max] === n ? knownIds[n % max]?.at(knownAt[n % max]!) : undefined;
  /** Observation id → the event a reduction stage held back. */
  const held = new Map<string, PendingEvent>();
  const oldestHeld = new EvictionCursor(held);
  let next = 0;
  let missing = 0;
  /** Observation `n` (`id` when held back) is durable as `ids.at(k)`. */
  const remember = (n: number, id: string, ids: EventIds, k: number) => {
    if (held.size > 0) held.delete(id);
    // An old observation settled late never takes the slot of a newer one.
    if (n === 0 || knownN[n % max]! > n) return;
    knownN[n % max] = n;
    knownIds[n % max] = ids;
    knownAt[n % max] = k;
  };
  return {
    /** The observation id of an event (given on first sight). */
    idFor(event: PendingEvent): string {
      let n = numberFor(event);
      if (n === undefined) {
        n = ++next;
        setNumber(event, n);
      }
      return `${prefix}${n}`;
    },
    /** A stage handed on a changed copy: it is the same observation. */
    carry(from: PendingEvent, to: PendingEvent): void {
      const id = numberFor(from);
      if (id !== undefined) setNumber(to, id);
    },
    /** A reduction stage did not hand the event on: keep it in case an alert names it. */
    heldBack(event: PendingEvent): void {
      const n = numberFor(event);
      if (n === undefined || knownFor(n) !== undefined) return;
      const id = `${prefix}${n}`;
      if (!held.has(id) && held.size >= maxHeld) oldestHeld.evict();
      held.set(id, event);
    },
    /** The event is durable under `realId`. */
    queued(event: PendingEvent, realId: string): void {
      const n = numberFor(event);
      if (n !== undefined) remember(n, held.size > 0 ? `${prefix}${n}` : '', idList([realId]), 0);
    },
    /**
     * The observation number of an event (0 when detection never saw it), so that its real id can
     * be given once it is durable (`queuedAs`) without keeping the event itself until then.
     */
    observation(event: PendingEvent): number {
      return numberFor(event) ?? 0;
    },
    /** Observation `n` (from `observation`) is durable under `ids.at(k)`. */
    queuedAs(n: number, ids: EventIds, k: number): void {
      if (n > 0) remember(n, held.size > 0 ? `${prefix}${n}` : '', ids, k);
    },
    /** Held-back evidence is durable under `ids.at(k)` now. */
    settle(observationId: string, ids: EventIds, k: number): void {
      remember(numberOf(observationId), observationId, ids, k);
    },
    /**
     * An alert's event ids: real ids where known, and the held-back events to forward with it
     * (each forwarded once: after that it is known by its real id).
     */
    resolve(eventIds: readonly string[]): {
      ids: string[];
      forward: Array<{ id: string; event: PendingEvent }>;
    } {
      const out: string[] = [];
      const forward: Array<{ id: string; event: PendingEvent }> = [];
      for (const id of eventIds) {
        const real = knownFor(numberOf(id));
        const event = real === undefined ? held.get(id) : undefined;
        if (real !== undefined) out.push(real);
        else if (event) forward.push({ id, event });
        else {
          if (id.startsWith(prefix)) missing++;
          out.push(id);
        }
      }
      return { ids: out, forward };
    },
    /** Evidence too old to be forwarded (beyond `max` observations). */
    get missing() {
      return missing;
    },
    get prefix() {
      return prefix;
    },
  };
}

export type Evidence = ReturnType<typeof createEvidence>;
