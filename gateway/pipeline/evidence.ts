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

export const EVIDENCE_REMEMBERED = 20_000;
export const EVIDENCE_HELD = 2_000;

export function createEvidence({
  max = EVIDENCE_REMEMBERED,
  maxHeld = EVIDENCE_HELD,
  prefix = `obs-${Date.now().toString(36)}-`,
} = {}) {
  const ids = new WeakMap<object, string>();
  /** Observation id → the real id once queued. */
  const known = new Map<string, string>();
  const oldest = new EvictionCursor(known);
  /** Observation id → the event a reduction stage held back. */
  const held = new Map<string, PendingEvent>();
  const oldestHeld = new EvictionCursor(held);
  let next = 0;
  let missing = 0;
  const remember = (id: string, realId: string) => {
    held.delete(id);
    if (!known.has(id) && known.size >= max) oldest.evict();
    known.set(id, realId);
  };
  return {
    /** The observation id of an event (given on first sight). */
    idFor(event: PendingEvent): string {
      let id = ids.get(event);
      if (id === undefined) {
        id = `${prefix}${++next}`;
        ids.set(event, id);
      }
      return id;
    },
    /** A stage handed on a changed copy: it is the same observation. */
    carry(from: PendingEvent, to: PendingEvent): void {
      const id = ids.get(from);
      if (id !== undefined) ids.set(to, id);
    },
    /** A reduction stage did not hand the event on: keep it in case an alert names it. */
    heldBack(event: PendingEvent): void {
      const id = ids.get(event);
      if (id === undefined || known.has(id)) return;
      if (!held.has(id) && held.size >= maxHeld) oldestHeld.evict();
      held.set(id, event);
    },
    /** The event is durable under `realId`. */
    queued(event: PendingEvent, realId: string): void {
      const id = ids.get(event);
      if (id !== undefined) remember(id, realId);
    },
    /** Held-back evidence is durable under `realId` now. */
    settle(observationId: string, realId: string): void {
      remember(observationId, realId);
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
        const real = known.get(id);
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
