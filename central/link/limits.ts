/**
 * The link's limits as mountLink takes them (central/link/server.ts), from central's `link:` config
 * block: batch size, heartbeat, per-gateway rate and queue, concurrent batches, pending connections.
 */
import type { CentralConfig } from '../config/schema.ts';

export function linkLimits(link: CentralConfig['link'], adapter: 'pglite' | 'postgres') {
  return {
    maxBatchEvents: link.max_batch_events,
    heartbeatIntervalMs: link.heartbeat_interval_secs * 1000,
    maxEventsPerSecond: link.max_events_per_second_per_gateway,
    maxQueuedBatches: link.max_queued_batches,
    // PGlite is one single-threaded engine: concurrency there only adds contention.
    maxConcurrentBatches: adapter === 'pglite' ? 1 : link.max_concurrent_batches,
    pending: {
      maxPending: link.max_pending_connections,
      maxPendingPerAddress: link.max_pending_connections_per_address,
      helloTimeoutMs: link.hello_timeout_secs * 1000,
    },
  };
}
