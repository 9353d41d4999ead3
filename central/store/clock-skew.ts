/**
 * Flagging events whose own clock disagrees with their arrival (issue 15 item 12). An event's
 * `ts` is what the device said; a device, or whoever speaks for it, can backdate its events out
 * of every time-range search. `received` is when the gateway got it, and the gateway's clock is
 * measured against central's (`clock_offset_ms`), so `received − clock_offset_ms` is the arrival
 * on central's clock. An event further from it than the configured skew is stored with the tag
 * `clock_skew` and `fields.clock_skew_ms` (ts minus arrival: negative = backdated), so searches
 * show it and `tag=clock_skew` finds it. Deterministic: a re-sent event is flagged identically.
 */
import type { Event } from '../../protocols/event/schema.ts';

export const CLOCK_SKEW_TAG = 'clock_skew';
export const CLOCK_SKEW_FIELD = 'clock_skew_ms';
/** `storage.flag_clock_skew_secs` when the config does not say. */
export const DEFAULT_FLAG_CLOCK_SKEW_SECS = 300;

/** ts minus the arrival on central's clock, in ms (NaN when a time does not parse). */
export function clockSkewMs(event: Event): number {
  // Per stored event: when ts is received (an event timed by the gateway, the usual case) the skew
  // is the offset, without parsing either (a time that does not parse fails the insert anyway).
  if (event.ts === event.received) return event.clock_offset_ms ?? 0;
  const arrival = Date.parse(event.received) - (event.clock_offset_ms ?? 0);
  return Date.parse(event.ts) - arrival;
}

/** `event` itself when within `maxSkewMs`, else a flagged copy (the caller's object is not changed). */
export function flagClockSkew(event: Event, maxSkewMs: number): Event {
  const skew = clockSkewMs(event);
  if (!(Math.abs(skew) > maxSkewMs)) return event;
  return {
    ...event,
    tags: event.tags.includes(CLOCK_SKEW_TAG) ? event.tags : [...event.tags, CLOCK_SKEW_TAG],
    fields: { ...event.fields, [CLOCK_SKEW_FIELD]: Math.round(skew) },
  };
}
