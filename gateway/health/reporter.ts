/**
 * The gateway reports on itself with `health` events that travel to central like any other
 * event: evictions by lane when the disk cap is reached, input refused because only alerts are
 * left, queue write failures (full disk, I/O errors). Reports are aggregated over an interval,
 * so a storm of evictions becomes one event with counts, not a storm of events.
 */
import type { PendingEvent } from '../../protocols/event/schema.ts';
import type { EvictionReport } from '../queue/leveldb-queue.ts';

export interface HealthReporterOptions {
  intervalMs: number;
  /** Queues the report; a failure here is counted by the caller's metrics. */
  emit: (events: PendingEvent[]) => Promise<void>;
  now: () => Date;
  host: string;
}

type Recovery = { action: 'repaired' | 'moved_aside'; error: string; movedTo?: string };

type Counts = {
  recovered?: Recovery;
  evicted: Record<'security' | 'telemetry', { events: number; records: number; bytes: number }>;
  refused: number;
  writeErrors: number;
  lastWriteError?: string;
};

const empty = (): Counts => ({
  evicted: { security: { events: 0, records: 0, bytes: 0 }, telemetry: { events: 0, records: 0, bytes: 0 } },
  refused: 0,
  writeErrors: 0,
});

export function createHealthReporter(options: HealthReporterOptions) {
  let counts = empty();
  let dirty = false;
  const timer = setInterval(() => void flush(), options.intervalMs);
  timer.unref();

  function event(
    action: string,
    severity: number,
    message: string,
    fields: Record<string, unknown>,
  ): PendingEvent {
    const now = options.now().toISOString();
    return {
      ts: now,
      received: now,
      source: 'gateway',
      kind: 'health',
      action,
      severity,
      message,
      host: options.host,
      fields,
      tags: [],
    };
  }

  async function flush(): Promise<void> {
    if (!dirty) return;
    const c = counts;
    counts = empty();
    dirty = false;
    const events: PendingEvent[] = [];
    if (c.recovered) {
      events.push(
        event(
          'gateway.queue_recovered',
          2,
          `the queue database was corrupt (${c.recovered.error.slice(0, 200)}); it was ${c.recovered.action.replace('_', ' ')}`,
          { ...c.recovered },
        ),
      );
    }
    const lost = c.evicted.telemetry.events + c.evicted.security.events;
    if (lost > 0) {
      events.push(
        event(
          'gateway.queue_eviction',
          4,
          `disk cap reached: evicted ${c.evicted.telemetry.events} telemetry and ${c.evicted.security.events} security events (oldest first)`,
          { evicted: c.evicted },
        ),
      );
    }
    if (c.refused > 0) {
      events.push(
        event('gateway.queue_full', 2, `queue full of alerts: refused ${c.refused} new events`, {
          refused: c.refused,
        }),
      );
    }
    if (c.writeErrors > 0) {
      events.push(
        event(
          'gateway.queue_write_error',
          2,
          `queue writes failed ${c.writeErrors} times: ${c.lastWriteError}`,
          {
            failures: c.writeErrors,
            error: c.lastWriteError,
          },
        ),
      );
    }
    if (events.length === 0) return;
    try {
      await options.emit(events);
    } catch {
      // Could not queue the report itself (still full, disk still failing): keep the counts for next time.
      mergeInto(counts, c);
      dirty = true;
    }
  }

  let lastWriteError: string | undefined;
  return {
    /** The last failed queue write, cleared by the next successful one (for /api/status). */
    lastWriteError: () => lastWriteError,
    writeSucceeded(): void {
      lastWriteError = undefined;
    },
    queueRecovered(recovery: Recovery): void {
      counts.recovered = recovery;
      dirty = true;
      void flush();
    },
    evicted(report: EvictionReport): void {
      const lane = counts.evicted[report.lane];
      lane.events += report.events;
      lane.records += report.records;
      lane.bytes += report.bytes;
      dirty = true;
    },
    refused(events: number): void {
      counts.refused += events;
      dirty = true;
    },
    writeFailed(events: number, error: Error): void {
      counts.writeErrors += events;
      counts.lastWriteError = error.message.slice(0, 300);
      lastWriteError = counts.lastWriteError;
      dirty = true;
    },
    flush,
    stop(): void {
      clearInterval(timer);
    },
  };
}

function mergeInto(target: Counts, from: Counts): void {
  for (const lane of ['security', 'telemetry'] as const) {
    target.evicted[lane].events += from.evicted[lane].events;
    target.evicted[lane].records += from.evicted[lane].records;
    target.evicted[lane].bytes += from.evicted[lane].bytes;
  }
  target.refused += from.refused;
  target.writeErrors += from.writeErrors;
  target.lastWriteError ??= from.lastWriteError;
  target.recovered ??= from.recovered;
}

export type HealthReporter = ReturnType<typeof createHealthReporter>;
