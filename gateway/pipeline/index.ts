/**
 * The gateway pipeline: what happens to events between a source and the queue. Transforms run
 * in order (a null drops the event, counted with the transform's name as the reason), the
 * gateway's latest clock offset to central is stamped on each event, and the batch is appended
 * to the durable queue. A refused or failed append is counted here, reported to the health
 * reporter, and rethrown so that the source does not acknowledge the events to the device.
 */
import type { PendingEvent } from '../../protocols/event/schema.ts';
import type { HealthReporter } from '../health/reporter.ts';
import type { SigmaEngine } from '../../protocols/sigma/index.ts';
import { detect } from '../detection/index.ts';
import type { Baselines } from '../baselines/index.ts';
import type { Inventory } from '../inventory/index.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { type LevelQueue, QueueFullError } from '../queue/leveldb-queue.ts';
import type { Transform } from './types.ts';

export interface PipelineOptions {
  queue: LevelQueue;
  transforms: Transform[];
  metrics: GatewayMetrics;
  health?: HealthReporter;
  inventory?: Inventory;
  baselines?: Baselines;
  /** Sigma rules run at the edge (gateway/detection); alerts go to the queue's alert lane. */
  engine?: SigmaEngine;
  clockOffsetMs: () => number | undefined;
  /** Sees what was queued, and alerts even when the queue refused them (the device dashboard). */
  onQueued?: (events: ReadonlyArray<PendingEvent & { id?: string }>) => void;
}

export function createPipeline(options: PipelineOptions) {
  const { queue, transforms, metrics } = options;
  /** Queues alerts (from detection, or from the engine's clock advancing). */
  async function alerts(batch: PendingEvent[]): Promise<void> {
    if (batch.length === 0) return;
    metrics.alerts.inc(batch.length);
    try {
      options.onQueued?.(await queue.append(batch));
    } catch (error) {
      // A local alert stays visible on the gateway's dashboard even when it could not be queued.
      options.onQueued?.(batch);
      const full = error instanceof QueueFullError;
      metrics.dropped.inc(
        { source: 'detection', reason: full ? 'queue_full' : 'queue_write_failed' },
        batch.length,
      );
      if (full) options.health?.refused(batch.length);
      else options.health?.writeFailed(batch.length, error as Error);
    }
  }

  return {
    async emit(sourceName: string, events: PendingEvent[]): Promise<void> {
      metrics.received.inc({ source: sourceName }, events.length);
      const offset = options.clockOffsetMs();
      // The queue stamps the offset as it writes, rather than a copy of each event here.
      const stamp = offset === undefined ? undefined : { clockOffsetMs: offset };
      const now = new Date();
      const nowMs = now.getTime();
      const out: PendingEvent[] = [];
      for (const original of events) {
        let event: PendingEvent | null = original;
        for (const transform of transforms) {
          event = transform.apply(event);
          if (event === null) {
            metrics.dropped.inc({ source: sourceName, reason: transform.name });
            break;
          }
        }
        if (event === null) continue;
        out.push(event);
        if (options.baselines)
          for (const deviation of options.baselines.observe(event, nowMs)) out.push(deviation);
        const discovered = options.inventory?.observe(event, now);
        if (discovered) out.push(discovered);
      }
      if (out.length === 0) return;
      let queued: Awaited<ReturnType<typeof queue.append>>;
      try {
        queued = await queue.append(out, stamp);
      } catch (error) {
        const full = error instanceof QueueFullError;
        metrics.dropped.inc(
          { source: sourceName, reason: full ? 'queue_full' : 'queue_write_failed' },
          out.length,
        );
        if (full) options.health?.refused(out.length);
        else options.health?.writeFailed(out.length, error as Error);
        throw error;
      }
      metrics.queued.inc(out.length);
      options.health?.writeSucceeded();
      options.onQueued?.(queued);
      // Detection runs on what is durable, so an alert never refers to an event that could be lost.
      if (options.engine) await alerts(detect(options.engine, queued, new Date()));
    },
    alerts,
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
