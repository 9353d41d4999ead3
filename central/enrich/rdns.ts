/**
 * Reverse DNS for enrichment that never blocks ingest: `peek` answers from a bounded LRU cache
 * at once (a name, `null` for "looked up, no name", undefined for "not known yet") and queues
 * the address for an asynchronous PTR lookup; later events from it find the name in the cache.
 * Lookups run through a node:dns Resolver with a per-query timeout and one try, at most
 * `concurrency` at a time, with at most `maxQueued` waiting (more are dropped and counted).
 * `resolve` is the same for work that may wait (filling in an alert's names afterwards): it
 * settles when the lookup it queued (or found running) ends.
 */
import { Resolver } from 'node:dns/promises';

export interface RdnsOptions {
  /** Cached addresses (names and misses), least recently used evicted first. */
  maxEntries?: number;
  timeoutMs?: number;
  concurrency?: number;
  maxQueued?: number;
  /** How long a name (or a miss) is kept. */
  ttlMs?: number;
  /** DNS servers (`127.0.0.1:5353`); the system's when absent. */
  servers?: string[];
}

export function createRdns(options: RdnsOptions = {}) {
  const maxEntries = options.maxEntries ?? 10_000;
  const concurrency = options.concurrency ?? 4;
  const maxQueued = options.maxQueued ?? 1_000;
  const ttlMs = options.ttlMs ?? 3_600_000;
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 1_000, tries: 1 });
  if (options.servers) resolver.setServers(options.servers);
  const cache = new Map<string, { name: string | null; until: number }>();
  const queued = new Set<string>();
  const waiting: string[] = [];
  let running = 0;
  let idle: Array<() => void> = [];
  /** Who waits for the lookup of an address (only addresses queued or running). */
  const waiters = new Map<string, Array<(name: string | null) => void>>();
  const stats = { lookups: 0, failures: 0, dropped: 0 };

  function remember(ip: string, name: string | null): void {
    cache.delete(ip);
    cache.set(ip, { name, until: Date.now() + ttlMs });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    const list = waiters.get(ip);
    waiters.delete(ip);
    for (const w of list ?? []) w(name);
  }

  function pump(): void {
    while (running < concurrency && waiting.length > 0) {
      const ip = waiting.shift()!;
      running += 1;
      stats.lookups += 1;
      resolver
        .reverse(ip)
        .then(
          (names) => remember(ip, names[0]?.replace(/\.$/, '').slice(0, 255) ?? null),
          () => {
            stats.failures += 1;
            remember(ip, null);
          },
        )
        .finally(() => {
          running -= 1;
          queued.delete(ip);
          pump();
          if (running === 0 && waiting.length === 0) {
            const done = idle;
            idle = [];
            for (const f of done) f();
          }
        });
    }
  }

  function peek(ip: string): string | null | undefined {
    const hit = cache.get(ip);
    if (hit && hit.until > Date.now()) {
      cache.delete(ip);
      cache.set(ip, hit);
      return hit.name;
    }
    if (!queued.has(ip)) {
      if (waiting.length >= maxQueued) stats.dropped += 1;
      else {
        queued.add(ip);
        waiting.push(ip);
        pump();
      }
    }
    return undefined;
  }

  return {
    /**
     * The name of `ip` once known: at once from the cache, else when the lookup ends (a miss, a
     * timeout or a full queue give null). Never rejects.
     */
    resolve(ip: string): Promise<string | null> {
      const now = peek(ip);
      if (now !== undefined) return Promise.resolve(now);
      if (!queued.has(ip)) return Promise.resolve(null);
      return new Promise((done) => {
        const list = waiters.get(ip) ?? [];
        list.push(done);
        waiters.set(ip, list);
      });
    },
    /** The cached name of `ip` now; queues a lookup when it is not cached (or expired). */
    peek,
    get size() {
      return cache.size;
    },
    stats,
    /** Resolves when no lookup is running or waiting (tests). */
    settled(): Promise<void> {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    cancel: () => {
      resolver.cancel();
      for (const [ip, list] of waiters) {
        waiters.delete(ip);
        for (const w of list) w(null);
      }
    },
  };
}

export type Rdns = ReturnType<typeof createRdns>;
