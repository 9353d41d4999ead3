/**
 * `dedupe`: identical events (same values at `fields` paths) within a window become one with a
 * count, the way syslog says "last message repeated N times": the first goes on at once, repeats
 * within the window are counted, not forwarded, and at the window's end (or on stop) one copy of
 * the first goes on with `fields.duplicates` (how many repeats it stands for) and
 * `fields.last_seen`, when there were any. Repeats count as dropped, the count event as created.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EvictionCursor } from '../../../protocols/event/evict.ts';
import { keyOf, type Predicate } from '../match.ts';
import type { Stage, StageContext } from '../stage.ts';

export const MAX_HELD = 10_000;

interface Window {
  event: PendingEvent;
  sinceMs: number;
  repeats: number;
  lastTs: string;
}

export function createDedupeStage(options: {
  name: string;
  matches: Predicate;
  fields: readonly string[];
  windowSecs: number;
}): Stage {
  const windows = new Map<string, Window>();
  const oldest = new EvictionCursor(windows);
  const windowMs = options.windowSecs * 1000;
  const close = (w: Window, ctx: StageContext) => {
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
      const key = keyOf(event, options.fields);
      const w = windows.get(key);
      if (w && ctx.nowMs - w.sinceMs < windowMs) {
        w.repeats++;
        w.lastTs = event.ts;
        return null;
      }
      if (w) {
        windows.delete(key);
        close(w, ctx);
      } else if (windows.size >= MAX_HELD) {
        const [, early] = oldest.evict() ?? [];
        if (early) close(early, ctx);
      }
      windows.set(key, { event, sinceMs: ctx.nowMs, repeats: 0, lastTs: event.ts });
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
