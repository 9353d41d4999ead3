/**
 * `dedupe`: identical events (same values at `fields` paths) within a window become one with a
 * count, the way syslog says "last message repeated N times": the first goes on at once, repeats
 * within the window are counted, not forwarded, and at the window's end (or on stop) one copy of
 * the first goes on with `fields.duplicates` (how many repeats it stands for) and
 * `fields.last_seen`, when there were any. Repeats count as dropped, the count event as created.
 *
 * Each open window holds its first event (to copy at the window's end), so what it holds is
 * bounded in bytes as well as in windows: past either bound the oldest window closes early (its
 * count goes out now; one without repeats costs nothing). A gateway runs in a 64 MB heap: 10,000
 * held syslog events were 9.7 MB of it in the soak, where every load line is unique and the
 * default `routine_syslog` dedupe held 10,000 of them all the time, for nothing.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EvictionCursor } from '../../../protocols/event/evict.ts';
import { keyer, type Predicate } from '../match.ts';
import type { Stage, StageContext } from '../stage.ts';

export const MAX_HELD = 10_000;
/** Estimated bytes of the events the open windows hold, over all of them. */
export const MAX_HELD_BYTES = 2 * 1024 * 1024;
/**
 * A held event's estimated cost beyond its key and message: the object, its fields and tags, the
 * window and the map entry (a syslog event measured about 700 bytes besides those two strings).
 */
const EVENT_OVERHEAD_BYTES = 700;

interface Window {
  event: PendingEvent;
  sinceMs: number;
  repeats: number;
  lastTs: string;
  bytes: number;
}

export function createDedupeStage(options: {
  name: string;
  matches: Predicate;
  fields: readonly string[];
  windowSecs: number;
}): Stage {
  const windows = new Map<string, Window>();
  const oldest = new EvictionCursor(windows);
  const keyOf = keyer(options.fields);
  const windowMs = options.windowSecs * 1000;
  let heldBytes = 0;
  const close = (w: Window, ctx: StageContext) => {
    heldBytes -= w.bytes;
    if (w.repeats === 0) return;
    const at = new Date(ctx.nowMs).toISOString();
    ctx.emit({
      ...w.event,
      ts: w.lastTs,
      received: at,
      message: `${w.event.message} (repeated ${w.repeats} times)`.slice(0, 65_536),
      fields: { ...w.event.fields, duplicates: w.repeats, first_seen: w.event.ts, last_seen: w.lastTs },
      tags: [...w.event.tags.filter((t) => t !== 'repeated'), 'repeated'],
    });
  };
  return {
    name: options.name,
    type: 'dedupe',
    dropReason: 'deduplicated',
    process(event, ctx) {
      if (!options.matches(event)) return event;
      const key = keyOf(event);
      const w = windows.get(key);
      if (w && ctx.nowMs - w.sinceMs < windowMs) {
        w.repeats++;
        w.lastTs = event.ts;
        return null;
      }
      if (w) {
        windows.delete(key);
        close(w, ctx);
      }
      // Strings count a byte a character (Latin-1, as syslog mostly is); the key holds the message.
      const bytes = EVENT_OVERHEAD_BYTES + key.length + (event.message?.length ?? 0);
      while (windows.size > 0 && (windows.size >= MAX_HELD || heldBytes + bytes > MAX_HELD_BYTES)) {
        const [, early] = oldest.evict() ?? [];
        if (!early) break;
        close(early, ctx);
      }
      windows.set(key, { event, sinceMs: ctx.nowMs, repeats: 0, lastTs: event.ts, bytes });
      heldBytes += bytes;
      return event;
    },
    flush(ctx: StageContext, final: boolean) {
      for (const [key, w] of windows) {
        if (!final && ctx.nowMs - w.sinceMs < windowMs) continue;
        windows.delete(key);
        close(w, ctx);
      }
    },
  };
}
