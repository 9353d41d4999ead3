/**
 * Reverse DNS for enrichment that never blocks ingest: `peek` answers from a bounded LRU cache
 * at once (a name, `null` for "looked up, no name", undefined for "not known yet") and queues
 * the address for an asynchronous PTR lookup; later events from it find the name in the cache.
 * Lookups run through a node:dns Resolver with a per-query timeout and one try, at most
 * `concurrency` at a time, with at most `maxQueued` waiting (more are dropped and counted).
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
  const stats = { lookups: 0, failures: 0, dropped: 0 };

  function remember(ip: string, name: string | null): void {
    cache.delete(ip);
    cache.set(ip, { name, until: Date.now() + ttlMs });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
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

  return {
    /** The cached name of `ip` now; queues a lookup when it is not cached (or expired). */
    peek(ip: string): string | null | undefined {
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
    },
    get size() {
      return cache.size;
    },
    stats,
    /** Resolves when no lookup is running or waiting (tests). */
    settled(): Promise<void> {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    cancel: () => resolver.cancel(),
  };
}

export type Rdns = ReturnType<typeof createRdns>;
