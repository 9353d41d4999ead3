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
import { pathReader, type Predicate } from '../match.ts';
import type { Stage, StageContext } from '../stage.ts';

export const MAX_HELD = 10_000;
/** Estimated bytes of the events the open windows hold, over all of them. */
export const MAX_HELD_BYTES = 2 * 1024 * 1024;
/**
 * A held event's estimated cost beyond its message: the object, its fields and tags, the window
 * and the map entry (a syslog event measured about 700 bytes besides its message).
 */
const EVENT_OVERHEAD_BYTES = 700;

interface Window {
  event: PendingEvent;
  sinceMs: number;
  repeats: number;
  lastTs: string;
  bytes: number;
  /** The next window with the same first value (its other values differ). */
  next: Window | undefined;
}

export function createDedupeStage(options: {
  name: string;
  matches: Predicate;
  fields: readonly string[];
  windowSecs: number;
}): Stage {
  // Windows are found by one field's value, the message when it is one of the fields: the event's
  // own string, hashed once by the Map, where a key joined from every field was a new string per
  // event, copied, hashed and held beside the message. Windows whose first values are equal but
  // whose other values differ (the same message from two hosts) are chained under one entry.
  const at = Math.max(0, options.fields.indexOf('message'));
  // No fields: every matching event is the same one.
  const keyField = options.fields.length > 0 ? pathReader(options.fields[at]!) : () => '';
  const others = options.fields.filter((_, i) => i !== at).map(pathReader);
  const text = (v: unknown) => String(v ?? '');
  const same = (a: PendingEvent, b: PendingEvent) => {
    for (let i = 0; i < others.length; i++) if (text(others[i]!(a)) !== text(others[i]!(b))) return false;
    return true;
  };
  const windows = new Map<string, Window>();
  const oldest = new EvictionCursor(windows);
  const windowMs = options.windowSecs * 1000;
  let held = 0;
  let heldBytes = 0;
  const close = (w: Window, ctx: StageContext) => {
    held -= 1;
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
  /** Takes `w` out of its key's chain (the entry goes with the last window). */
  const unlink = (key: string, w: Window) => {
    const head = windows.get(key);
    if (head === w) {
      if (w.next) windows.set(key, w.next);
      else windows.delete(key);
    } else {
      let before = head;
      while (before && before.next !== w) before = before.next;
      if (before) before.next = w.next;
    }
    w.next = undefined;
  };
  return {
    name: options.name,
    type: 'dedupe',
    dropReason: 'deduplicated',
    process(event, ctx) {
      if (!options.matches(event)) return event;
      const key = text(keyField(event));
      let w = windows.get(key);
      while (w && !same(w.event, event)) w = w.next;
      if (w && ctx.nowMs - w.sinceMs < windowMs) {
        w.repeats++;
        w.lastTs = event.ts;
        return null;
      }
      if (w) {
        unlink(key, w);
        close(w, ctx);
      }
      // Strings count a byte a character (Latin-1, as syslog mostly is).
      const bytes = EVENT_OVERHEAD_BYTES + (event.message?.length ?? 0);
      while (held > 0 && (held >= MAX_HELD || heldBytes + bytes > MAX_HELD_BYTES)) {
        const [, early] = oldest.evict() ?? [];
        if (!early) break;
        for (let c: Window | undefined = early; c; c = c.next) close(c, ctx);
      }
      const made: Window = {
        event,
        sinceMs: ctx.nowMs,
        repeats: 0,
        lastTs: event.ts,
        bytes,
        next: undefined,
      };
      const head = windows.get(key);
      if (head) {
        made.next = head.next;
        head.next = made;
      } else windows.set(key, made);
      held += 1;
      heldBytes += bytes;
      return event;
    },
    flush(ctx: StageContext, final: boolean) {
      for (const [key, head] of windows) {
        for (let w: Window | undefined = head; w;) {
          const next: Window | undefined = w.next;
          if (final || ctx.nowMs - w.sinceMs >= windowMs) {
            unlink(key, w);
            close(w, ctx);
          }
          w = next;
        }
      }
    },
  };
}
