/**
 * `normalise`: the first stage. Sources already produce the one Event; this makes sure of what
 * every later stage relies on: a `ts` that parses (else the gateway's `received`), a message and
 * tags within the schema's bounds. It changes (a copy of) an event only when something is wrong.
 */
import { EVENT_LIMITS, type PendingEvent } from '../../../protocols/event/schema.ts';
import type { Stage } from '../stage.ts';

export function createNormaliseStage(name = 'normalise'): Stage {
  return {
    name,
    type: 'normalise',
    dropReason: 'invalid',
    process(event) {
      const badTs = !Number.isFinite(Date.parse(event.ts));
      const long = event.message.length > EVENT_LIMITS.MESSAGE_BYTES;
      const tags = event.tags.length > EVENT_LIMITS.TAGS;
      if (!badTs && !long && !tags) return event;
      const copy: PendingEvent = { ...event };
      if (badTs) {
        copy.ts = event.received;
        copy.time_source = 'gateway';
      }
      if (long) copy.message = event.message.slice(0, EVENT_LIMITS.MESSAGE_BYTES);
      if (tags) copy.tags = event.tags.slice(0, EVENT_LIMITS.TAGS);
      return copy;
    },
  };
}
