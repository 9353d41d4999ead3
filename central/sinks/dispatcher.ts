/**
 * Delivers one sink's outbox: claims due rows (oldest first) with a lease, sends them one by one,
 * and records each outcome. On a transient failure the row waits an exponential backoff with
 * jitter (initial × 2^attempts, capped), the rest of the batch waits with it, and the sink stays
 * quiet until then even when new alerts arrive; so a receiver that is down costs one attempt per
 * backoff, and nothing is lost. Every failure is counted by sink and reason.
 */
import type { Logger } from 'pino';
import type { CentralMetrics } from '../metrics.ts';
import type { SqlClient } from '../store/sql-client.ts';
import type { SinkConfig } from './config.ts';
import { CLAIM_BATCH, claim, markDone, markRetry, pendingCounts, release } from './outbox.ts';
import type { Sink, SinkResult } from './types.ts';

/** How long a claimed batch is reserved for the node that claimed it. */
export const LEASE_MS = 5 * 60_000;

export function backoffMs(attempts: number, retry: SinkConfig['retry'], random = Math.random): number {
  const base = Math.min(retry.max_backoff_secs, retry.initial_backoff_secs * 2 ** Math.min(attempts, 30));
  return Math.round(base * 1000 * (0.8 + 0.4 * random()));
}

export interface DispatcherOptions {
  sink: Sink;
  retry: SinkConfig['retry'];
  sql: SqlClient;
  metrics: CentralMetrics;
  logger: Logger;
  now?: () => Date;
}

export function createDispatcher(options: DispatcherOptions) {
  const { sink, sql, metrics, logger } = options;
  const now = options.now ?? (() => new Date());
  const pollMs = options.retry.poll_interval_secs * 1000;
  let stopped = true;
  let backoffUntil = 0;
  let wakeUp: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  async function attempt(): Promise<number> {
    const items = await claim(sql, sink.name, now(), LEASE_MS);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (stopped) {
        await release(
          sql,
          items.slice(i).map((x) => x.id),
          now(),
        );
        return pollMs;
      }
      let result: SinkResult;
      try {
        result = await sink.send(item);
      } catch (error) {
        result = { outcome: 'retry', reason: 'exception', detail: (error as Error).message };
      }
      if (result.outcome === 'ok') {
        await markDone(sql, item.id, 'delivered', now());
        metrics.sinkSent.inc({ sink: sink.name });
        continue;
      }
      metrics.sinkFailures.inc({ sink: sink.name, reason: result.reason });
      if (result.outcome === 'reject') {
        await markDone(sql, item.id, 'rejected', now(), result.detail);
        metrics.sinkRejected.inc({ sink: sink.name });
        logger.error({ sink: sink.name, alert: item.alert.id, err: result.detail }, 'sink rejected an alert');
        continue;
      }
      const wait = backoffMs(item.attempts, options.retry);
      const at = new Date(now().getTime() + wait);
      await markRetry(sql, item.id, at, result.detail);
      await release(
        sql,
        items.slice(i + 1).map((x) => x.id),
        at,
      );
      backoffUntil = Date.now() + wait;
      logger.warn({ sink: sink.name, err: result.detail, retry_in_ms: wait }, 'sink send failed; will retry');
      return wait;
    }
    return items.length === CLAIM_BATCH ? 0 : pollMs;
  }

  async function run(): Promise<void> {
    while (!stopped) {
      let wait = pollMs;
      try {
        wait = await attempt();
        const pending = await pendingCounts(sql);
        metrics.sinkPending.set({ sink: sink.name }, pending.get(sink.name) ?? 0);
      } catch (error) {
        metrics.errors.inc({ component: 'sinks', stage: 'sending', code: 'outbox' });
        logger.error({ sink: sink.name, err: (error as Error).message }, 'sink outbox failed');
      }
      if (!stopped && wait > 0) await sleep(wait);
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      loop = run();
    },
    /** Something new is queued: look now, unless the sink is backing off after a failure. */
    wake() {
      if (Date.now() >= backoffUntil) wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await sink.close();
    },
  };
}
