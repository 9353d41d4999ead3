/**
 * `sample`: keeps 1 in N matching events per key (`one_in`), or the first per key in each
 * interval (`interval_secs`, on the pipeline's clock). Events that do not match pass untouched.
 * Keys are bounded: past `MAX_KEYS` the oldest key is forgotten (it starts afresh).
 */
import { EvictionCursor } from '../../../protocols/event/evict.ts';
import { keyer, type Predicate } from '../match.ts';
import type { Stage } from '../stage.ts';

export const MAX_KEYS = 10_000;

export function createSampleStage(options: {
  name: string;
  matches: Predicate;
  key: readonly string[];
  oneIn?: number;
  intervalSecs?: number;
}): Stage {
  const state = new Map<string, number>();
  const oldest = new EvictionCursor(state);
  const keyOf = keyer(options.key);
  const intervalMs = (options.intervalSecs ?? 0) * 1000;
  const oneIn = options.oneIn ?? 1;
  const remember = (key: string, value: number) => {
    if (!state.has(key) && state.size >= MAX_KEYS) oldest.evict();
    state.set(key, value);
  };
  return {
    name: options.name,
    type: 'sample',
    dropReason: 'sampled',
    process(event, ctx) {
      if (!options.matches(event)) return event;
      const key = keyOf(event);
      const seen = state.get(key);
      if (intervalMs > 0) {
        if (seen !== undefined && ctx.nowMs - seen < intervalMs && ctx.nowMs >= seen) return null;
        remember(key, ctx.nowMs);
        return event;
      }
      // Counts since the last kept event: keep the first, then every N-th.
      const n = seen === undefined ? 0 : seen + 1;
      remember(key, n % oneIn);
      return n % oneIn === 0 ? event : null;
    },
  };
}
