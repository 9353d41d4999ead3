/**
 * Stops a password brute force on the embedded broker, not only reports it: an address with more
 * than `maxFailures` refused CONNECTs within `windowSecs` is blocked for `blockSecs`, during which
 * its CONNECTs are refused without checking any password. Each further block of the same address
 * doubles, up to `maxBlockSecs`; an address with no block for `resetSecs` starts again at
 * `blockSecs`. Pure (the clock is passed in) and bounded: at most `maxAddresses` addresses, the
 * least recently seen one evicted first, so an attacker's own address, active, stays counted.
 */

export interface BlockerOptions {
  maxFailures: number;
  windowSecs: number;
  blockSecs: number;
  maxBlockSecs: number;
  resetSecs: number;
  maxAddresses?: number;
}

/** A block that has just started. */
export interface Block {
  address: string;
  /** Failures in the window that led to it. */
  failures: number;
  secs: number;
  /** 1 for an address's first block, 2 for the next one (twice as long), and so on. */
  level: number;
  until: Date;
}

interface State {
  windowStart: number;
  failures: number;
  until: number;
  level: number;
}

export function createBlocker(options: BlockerOptions) {
  const { maxFailures, blockSecs, maxBlockSecs } = options;
  const windowMs = options.windowSecs * 1000;
  const resetMs = options.resetSecs * 1000;
  const maxAddresses = options.maxAddresses ?? 50_000;
  // Insertion order is recency: a touched address is re-inserted, the first one is the oldest.
  const states = new Map<string, State>();

  const touch = (address: string): State | undefined => {
    const s = states.get(address);
    if (s) {
      states.delete(address);
      states.set(address, s);
    }
    return s;
  };

  return {
    /** When `address` is blocked at `now`, the end of its block. */
    blockedUntil(address: string, now: Date): Date | undefined {
      if (blockSecs <= 0) return undefined;
      const s = states.get(address);
      return s && s.until > now.getTime() ? new Date(s.until) : undefined;
    },

    /** Counts one refused CONNECT (not one refused for being blocked); a block it starts. */
    failure(address: string, now: Date): Block | undefined {
      if (blockSecs <= 0) return undefined;
      const t = now.getTime();
      let s = touch(address);
      if (!s) {
        s = { windowStart: t, failures: 0, until: 0, level: 0 };
        states.set(address, s);
        if (states.size > maxAddresses) states.delete(states.keys().next().value!);
      }
      if (s.level > 0 && s.until > 0 && t - s.until >= resetMs) s.level = 0; // long forgiven
      if (t - s.windowStart >= windowMs) {
        s.windowStart = t;
        s.failures = 0;
      }
      s.failures++;
      if (s.failures <= maxFailures) return undefined;
      const failures = s.failures;
      s.level++;
      const secs = Math.min(blockSecs * 2 ** (s.level - 1), maxBlockSecs);
      s.until = t + secs * 1000;
      // The next block needs a full count of new failures after this one ends.
      s.failures = 0;
      s.windowStart = s.until;
      return { address, failures, secs, level: s.level, until: new Date(s.until) };
    },

    /** Addresses tracked (for tests and metrics). */
    size: () => states.size,
  };
}

export type Blocker = ReturnType<typeof createBlocker>;
