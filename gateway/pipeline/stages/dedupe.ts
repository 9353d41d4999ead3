/**
 * `dedupe`: identical events (same values at `fields` paths) within a window become one: the
 * first is held, repeats are counted, and at the window's end (or on stop) the first goes on with
 * `fields.duplicates` (how many identical events it stands for, itself included) when there were
 * repeats. The hold delays matching events by up to the window; choose the match accordingly.
 * Every event held or folded counts as dropped, and each released one as created.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EvictionCursor } from '../../../protocols/event/evict.ts';
import { keyOf, type Predicate } from '../match.ts';
import type { Stage, StageContext } from '../stage.ts';

export const MAX_HELD = 10_000;

interface Held {
  event: PendingEvent;
  sinceMs: number;
  count: number;
  lastTs: string;
}

export function createDedupeStage(options: {
  name: string;
  matches: Predicate;
  fields: readonly string[];
  windowSecs: number;
}): Stage {
  const held = new Map<string, Held>();
  const oldest = new EvictionCursor(held);
  const windowMs = options.windowSecs * 1000;
  const release = (h: Held): PendingEvent =>
    h.count === 1
      ? h.event
      : { ...h.event, fields: { ...h.event.fields, duplicates: h.count, last_seen: h.lastTs } };
  return {
    name: options.name,
    type: 'dedupe',
    dropReason: 'deduplicated',
    process(event, ctx) {
      if (!options.matches(event)) return event;
      const key = keyOf(event, options.fields);
      const h = held.get(key);
      if (h && ctx.nowMs - h.sinceMs < windowMs) {
        h.count++;
        h.lastTs = event.ts;
        return null;
      }
      if (h) {
        held.delete(key);
        ctx.emit(release(h));
      }
      if (held.size >= MAX_HELD) {
        const [, early] = oldest.evict() ?? [];
        if (early) ctx.emit(release(early));
      }
      held.set(key, { event, sinceMs: ctx.nowMs, count: 1, lastTs: event.ts });
      return null;
    },
    flush(ctx: StageContext, final: boolean) {
      for (const [key, h] of held) {
        if (!final && ctx.nowMs - h.sinceMs < windowMs) continue;
        held.delete(key);
        ctx.emit(release(h));
      }
    },
  };
}
