/**
 * Counts what one key (a source address, a client id, a user name) does in fixed windows, and
 * says when a count first crosses its threshold in a window, so a brute force shows up whatever
 * client ids it rotates through. Also remembers the distinct client ids an address used. Pure:
 * the clock is passed in. Memory is bounded per key type (`maxKeys` each), and a full table evicts
 * its least recently counted key: a flood of fresh client ids or user names can neither crowd out
 * the per-address counts nor stop counting (as one shared, refusing table did). Shared by the
 * MQTT broker and MQTT seen in a capture, so both count the same way.
 */
import { RecencyMap } from '../../protocols/event/recency.ts';
import type { RateCrossing } from '../../protocols/mqtt/to-event.ts';

interface Window {
  start: number;
  count: number;
  clientIds?: Set<string>;
}

/** Distinct client ids remembered per address and window. */
const MAX_CLIENT_IDS = 10_000;

export function createRateTracker({
  windowSecs,
  maxKeys = 50_000,
}: {
  windowSecs: number;
  /** Keys kept per key type (src_ip, client_id, username). */
  maxKeys?: number;
}) {
  const windowMs = windowSecs * 1000;
  // One table per key type, in least-recently-counted order. A RecencyMap, not a Map re-inserted
  // on every hit and evicted by `keys().next()`: that left a hole per hit, which each eviction's
  // fresh iterator walked again, so a flood of fresh client ids at the 50,000-key cap paid more
  // per CONNECT the longer it went on (protocols/event/evict.ts, recency.ts).
  const tables = new Map<string, RecencyMap<string, Window>>();
  let evicted = 0;

  const tableOf = (keyType: string) => {
    let t = tables.get(keyType);
    if (!t) tables.set(keyType, (t = new RecencyMap()));
    return t;
  };

  return {
    /** Counts one occurrence; returns the crossing when this one is the first over `threshold`. */
    hit(
      counter: string,
      keyType: string,
      key: string,
      threshold: number,
      now: Date,
      clientId?: string,
    ): RateCrossing | null {
      const t = now.getTime();
      const table = tableOf(keyType);
      const id = `${counter}\u0000${key}`;
      let w = table.use(id);
      if (!w || t - w.start >= windowMs) table.set(id, (w = { start: t, count: 0 }));
      if (table.size > maxKeys) {
        table.evictOldest();
        evicted++;
      }
      w.count++;
      if (clientId !== undefined && keyType === 'src_ip' && (w.clientIds?.size ?? 0) < MAX_CLIENT_IDS) {
        (w.clientIds ??= new Set()).add(clientId);
      }
      if (w.count !== threshold + 1) return null;
      const crossing: RateCrossing = { counter, keyType, key, count: w.count, threshold, windowSecs };
      if (w.clientIds) crossing.distinctClientIds = w.clientIds.size;
      return crossing;
    },
    /** Current count in the window, 0 when none. */
    count(counter: string, keyType: string, key: string, now: Date): number {
      const w = tables.get(keyType)?.get(`${counter}\u0000${key}`);
      return w && now.getTime() - w.start < windowMs ? w.count : 0;
    },
    /** Keys held per key type, and how many were evicted to stay within `maxKeys`. */
    size(): { keys: Record<string, number>; evicted: number } {
      return { keys: Object.fromEntries([...tables].map(([k, t]) => [k, t.size])), evicted };
    },
  };
}

export type RateTracker = ReturnType<typeof createRateTracker>;
