/**
 * Clock correction for gateways without a real-time clock (a Raspberry Pi boots at 1970 or at
 * its last shutdown time until NTP answers). The gateway measures its offset to central on the
 * link and stamps it on each event; central moves gateway-clock timestamps onto its own clock.
 * Device timestamps are kept as the device said; `received` keeps the gateway's raw clock, so
 * nothing is lost: corrected ts = received − clock_offset_ms for gateway-timed events.
 */
import type { Event } from '../../protocols/event/schema.ts';

/** The last correction made (see below). */
let last = { ts: '', offset: 0, corrected: '' };

/**
 * Corrects `event.ts` in place and returns the event. The link session owns each event it has
 * just validated (a fresh object), so no copy is made: this runs once per ingested event.
 */
export function correctClock(event: Event): Event {
  const offset = event.clock_offset_ms;
  if (!offset || event.time_source !== 'gateway') return event;
  // Events come in time order, many to the millisecond: the last answer is often the next one.
  if (event.ts === last.ts && offset === last.offset) {
    event.ts = last.corrected;
    return event;
  }
  const corrected = Date.parse(event.ts) - offset;
  if (!Number.isFinite(corrected)) return event;
  const text = new Date(corrected).toISOString();
  last = { ts: event.ts, offset, corrected: text };
  event.ts = text;
  return event;
}
