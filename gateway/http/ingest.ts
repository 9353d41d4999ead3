/**
 * HTTP ingest on the gateway (issue 20): the shared routes (server-shared/ingest-route.ts) over
 * the pipeline, as source `http`: 202 once the events are in the queue (durable), 429 when the
 * queue refuses them for room (disk cap full of alerts), 503 when it cannot write.
 */
import type { PendingEvent } from '../../protocols/event/schema.ts';
import type { IngestConfig } from '../../server-shared/ingest-body.ts';
import type { IngestRouteDeps } from '../../server-shared/ingest-route.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { QueueFullError } from '../queue/leveldb-queue.ts';

export const INGEST_SOURCE = 'http';

export function gatewayIngest(
  config: IngestConfig,
  emit: (events: PendingEvent[]) => Promise<void>,
  metrics: GatewayMetrics,
): IngestRouteDeps {
  return {
    config,
    write: emit,
    isFull: (error) => error instanceof QueueFullError,
    count(what, n, reason) {
      if (what === 'invalid') metrics.dropped.inc({ source: INGEST_SOURCE, reason: 'invalid_item' }, n);
      else if (what === 'refused')
        metrics.errors.inc({ component: INGEST_SOURCE, stage: 'receiving', code: `refused_${reason}` }, n);
    },
  };
}
