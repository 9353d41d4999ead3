/**
 * HTTP ingest on central (issue 20): the shared routes (server-shared/ingest-route.ts) over the
 * store. Events get central's id as their gateway and sequence numbers from `central_event_seq`
 * (like the events central raises itself), are inserted in one transaction, and only then
 * answered 202; then they take the same path as a gateway's committed batch (enrichment,
 * central's detection). A store that fails answers 503 with retry-after; while those steps are too
 * far behind (central/ingest.ts), 429 with retry-after, nothing stored.
 */
import { EVENT_SCHEMA_VERSION, type Event, type PendingEvent } from '../../protocols/event/schema.ts';
import type { IngestConfig } from '../../server-shared/ingest-body.ts';
import type { IngestRouteDeps } from '../../server-shared/ingest-route.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { EventStore } from '../store/types.ts';

class IngestBehindError extends Error {
  override name = 'IngestBehindError';
  constructor() {
    super('enrichment or detection is too far behind to take more events now');
  }
}

export function centralIngest(deps: {
  config: IngestConfig;
  store: EventStore;
  centralId: string;
  metrics: CentralMetrics;
  /** Runs after the commit (central/ingest.ts: enrichment, detection). */
  afterCommit?: (events: Event[]) => void;
  /** True while what runs after the commit is too far behind: the request is refused (429). */
  full?: () => boolean;
}): IngestRouteDeps {
  return {
    config: deps.config,
    async write(pending: PendingEvent[]) {
      if (deps.full?.()) throw new IngestBehindError();
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
    // The store has no room limit of its own: any other failure is a 503.
    isFull: (error) => error instanceof IngestBehindError,
    count(what, n, reason) {
      if (what === 'refused' || what === 'invalid')
        deps.metrics.errors.inc(
          { component: 'ingest', stage: 'receiving', code: reason ?? 'invalid_item' },
          n,
        );
    },
  };
}
