/**
 * Counts what one key (a source address, a client id, a user name) does in fixed windows, and
 * says when a count first crosses its threshold in a window, so a brute force shows up whatever
 * client ids it rotates through. Also remembers the distinct client ids an address used. Pure:
 * the clock is passed in; memory is bounded by `maxKeys` (expired windows are swept first).
 */

export interface RateCrossing {
  counter: string;
  keyType: string;
  key: string;
  count: number;
  threshold: number;
  windowSecs: number;
  distinctClientIds?: number;
}

interface Window {
  start: number;
  count: number;
  clientIds?: Set<string>;
}

export function createRateTracker({
  windowSecs,
  maxKeys = 50_000,
}: {
  windowSecs: number;
  maxKeys?: number;
}) {
  const windowMs = windowSecs * 1000;
  const windows = new Map<string, Window>();

  const sweep = (t: number) => {
    for (const [k, w] of windows) if (t - w.start >= windowMs) windows.delete(k);
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
      const id = `${counter}\u0000${keyType}\u0000${key}`;
      let w = windows.get(id);
      if (!w || t - w.start >= windowMs) {
        if (!w && windows.size >= maxKeys) {
          sweep(t);
          if (windows.size >= maxKeys) return null; // still full: counting stops rather than memory growing
        }
        w = { start: t, count: 0 };
        windows.set(id, w);
      }
      w.count++;
      if (clientId !== undefined && keyType === 'src_ip' && (w.clientIds?.size ?? 0) < 10_000) {
        (w.clientIds ??= new Set()).add(clientId);
      }
      if (w.count !== threshold + 1) return null;
      const crossing: RateCrossing = { counter, keyType, key, count: w.count, threshold, windowSecs };
      if (w.clientIds) crossing.distinctClientIds = w.clientIds.size;
      return crossing;
    },
    /** Current count in the window, 0 when none. */
    count(counter: string, keyType: string, key: string, now: Date): number {
      const w = windows.get(`${counter}\u0000${keyType}\u0000${key}`);
      return w && now.getTime() - w.start < windowMs ? w.count : 0;
    },
  };
}

export type RateTracker = ReturnType<typeof createRateTracker>;
