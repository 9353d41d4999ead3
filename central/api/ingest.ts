/**
 * HTTP ingest on central (issue 20): the shared routes (server-shared/ingest-route.ts) over the
 * store. Events get central's id as their gateway and sequence numbers from `central_event_seq`
 * (like the events central raises itself), are inserted in one transaction, and only then
 * answered 202; then they take the same path as a gateway's committed batch (enrichment,
 * central's detection). A store that fails answers 503 with retry-after.
 */
import { EVENT_SCHEMA_VERSION, type Event, type PendingEvent } from '../../protocols/event/schema.ts';
import type { IngestConfig } from '../../server-shared/ingest-body.ts';
import type { IngestRouteDeps } from '../../server-shared/ingest-route.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { EventStore } from '../store/types.ts';

export function centralIngest(deps: {
  config: IngestConfig;
  store: EventStore;
  centralId: string;
  metrics: CentralMetrics;
  /** Runs after the commit (central/ingest.ts: enrichment, detection). */
  afterCommit?: (events: Event[]) => void;
}): IngestRouteDeps {
  return {
    config: deps.config,
    async write(pending: PendingEvent[]) {
      const { rows } = await deps.store.sql.query<{ seq: string }>(
        "SELECT nextval('central_event_seq') AS seq FROM generate_series(1, $1::int)",
        [pending.length],
      );
      const events: Event[] = pending.map((p, i) => {
        const seq = Number(rows[i]!.seq);
        return {
          v: EVENT_SCHEMA_VERSION,
          id: `${deps.centralId}:${seq}`,
          gateway: deps.centralId,
          seq,
          ...p,
        };
      });
      await deps.store.insertEvents(events);
      deps.afterCommit?.(events);
    },
    // The store has no room limit of its own: any failure is a 503.
    isFull: () => false,
    count(what, n, reason) {
      if (what === 'refused' || what === 'invalid')
        deps.metrics.errors.inc(
          { component: 'ingest', stage: 'receiving', code: reason ?? 'invalid_item' },
          n,
        );
    },
  };
}
