/**
 * The per-event checks of a received batch (link SPEC §4.4, §4.6): each event must pass the
 * schema, belong to the authenticated gateway, carry the id `gateway:seq`, and not speak for
 * central (source `central`, actions in the `central.` namespace, which central's detection
 * skips and analysts read as central's own). Pure: it sorts events into kept (clock-corrected)
 * and rejected with a bounded reason, and the session counts and stores them.
 */
import type { Event } from '../../protocols/event/schema.ts';
import { correctClock } from './clock.ts';
import { checkLinkEvent } from './event-check.ts';

/** SPEC §4.4: the action namespace of the events central raises itself (central/events.ts). */
export const RESERVED_ACTION_PREFIX = 'central.';

export type BatchRejectReason =
  'invalid' | 'wrong_gateway' | 'bad_id' | 'reserved_source' | 'reserved_action';

export interface CheckedBatch {
  /** The events to store, clock-corrected (clock.ts). */
  valid: Event[];
  /** One reason per refused event, in batch order. */
  rejected: BatchRejectReason[];
  /** The last clock offset a kept event carried (central skew monitoring), if any did. */
  offset: number | undefined;
}

/** Why `raw` may not be stored from `gateway`, or the event when it may. */
export function checkBatchEvent(
  raw: unknown,
  gateway: string,
): { ok: true; event: Event } | { ok: false; reason: BatchRejectReason } {
  // The schema's checks, on a fast path for the common valid event (event-check.ts).
  const parsed = checkLinkEvent(raw);
  if (!parsed.ok) return { ok: false, reason: 'invalid' };
  const event = parsed.event;
  if (event.gateway !== gateway) return { ok: false, reason: 'wrong_gateway' };
  if (event.id !== `${event.gateway}:${event.seq}`) return { ok: false, reason: 'bad_id' };
  if (event.source === 'central') return { ok: false, reason: 'reserved_source' };
  if (event.action.startsWith(RESERVED_ACTION_PREFIX)) return { ok: false, reason: 'reserved_action' };
  return { ok: true, event };
}

/** Sorts the events of one batch from `gateway` into those to store and those refused. */
export function checkBatchEvents(events: readonly unknown[], gateway: string): CheckedBatch {
  const valid: Event[] = [];
  const rejected: BatchRejectReason[] = [];
  let offset: number | undefined;
  for (const raw of events) {
    const checked = checkBatchEvent(raw, gateway);
    if (!checked.ok) {
      rejected.push(checked.reason);
      continue;
    }
    offset = checked.event.clock_offset_ms ?? offset;
    valid.push(correctClock(checked.event));
  }
  return { valid, rejected, offset };
}
