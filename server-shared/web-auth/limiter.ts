/**
 * Login rate limiting and lockout (SPEC.md §2): more than 5 failures for one username, or 20 from
 * one source address, within 15 minutes locks further attempts for 15 minutes (429 with
 * retry-after). Failures are counted in memory per server process and bounded (the oldest keys are
 * dropped first); a lockout itself is also written to the AuthStore, so a restart keeps it.
 */

export const MAX_FAILURES_PER_USER = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;
export const FAILURE_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_MS = 15 * 60_000;
const MAX_KEYS = 10_000;

interface Entry {
  failures: number[];
  lockedUntil: number;
}

/** The keys a login attempt is counted under: its username, and its source address if known. */
export function lockKeys(username: string, address: string | null): string[] {
  return [`u:${username.toLowerCase()}`, ...(address ? [`a:${address}`] : [])];
}

export class LoginLimiter {
  readonly #entries = new Map<string, Entry>();

  /** Milliseconds until the username or address may try again; 0 when it may now. */
  retryAfterMs(username: string, address: string | null, now: number): number {
    let wait = 0;
    for (const key of lockKeys(username, address)) {
      const entry = this.#entries.get(key);
      if (entry && entry.lockedUntil > now) wait = Math.max(wait, entry.lockedUntil - now);
    }
    return wait;
  }

  /** Counts a failure; returns the keys it has just locked, with the lockout's end (ms). */
  fail(username: string, address: string | null, now: number): Array<{ key: string; until: number }> {
    const locked: Array<{ key: string; until: number }> = [];
    const [user, from] = lockKeys(username, address);
    if (this.#count(user!, MAX_FAILURES_PER_USER, now)) locked.push({ key: user!, until: now + LOCKOUT_MS });
    if (from && this.#count(from, MAX_FAILURES_PER_ADDRESS, now))
      locked.push({ key: from, until: now + LOCKOUT_MS });
    return locked;
  }

  /** A successful login clears the username's failures (not the address's). */
  succeed(username: string): void {
    this.#entries.delete(`u:${username.toLowerCase()}`);
  }

  #count(key: string, max: number, now: number): boolean {
    let entry = this.#entries.get(key);
    if (!entry) {
      if (this.#entries.size >= MAX_KEYS) this.#prune(now);
      entry = { failures: [], lockedUntil: 0 };
      this.#entries.set(key, entry);
    }
    entry.failures = entry.failures.filter((t) => now - t < FAILURE_WINDOW_MS);
    entry.failures.push(now);
    if (entry.failures.length >= max && entry.lockedUntil <= now) {
      entry.lockedUntil = now + LOCKOUT_MS;
      entry.failures = [];
      return true;
    }
    return false;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.lockedUntil <= now && entry.failures.every((t) => now - t >= FAILURE_WINDOW_MS)) {
        this.#entries.delete(key);
      }
    }
    // Still full (an address spraying usernames): forget the oldest keys, never grow unbounded.
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < MAX_KEYS) break;
      this.#entries.delete(key);
    }
  }
}
