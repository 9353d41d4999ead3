/**
 * Events central raises itself: refused credentials, revocations, enrollments, clock skew of a
 * gateway. They are ordinary `Event`s (source `central`, gateway = central's id, seq from a
 * database sequence), stored with everything else, so a SOC finds them where it finds the rest.
 */
import type { Logger } from 'pino';
import { EVENT_SCHEMA_VERSION, type Event, type PendingEvent } from '../protocols/event/schema.ts';
import type { CentralMetrics } from './metrics.ts';
import type { EventStore } from './store/types.ts';

export type CentralEventInput = Pick<PendingEvent, 'kind' | 'action' | 'severity' | 'message'> &
  Partial<Pick<PendingEvent, 'fields' | 'src' | 'device' | 'host' | 'tags'>>;

export function createCentralEvents(options: {
  store: EventStore;
  centralId: string;
  logger: Logger;
  metrics: CentralMetrics;
  now?: () => Date;
}) {
  const now = options.now ?? (() => new Date());
  return {
    /** Stores one central event; failures are logged and counted, never thrown. */
    async raise(input: CentralEventInput): Promise<Event | undefined> {
      try {
        const { rows } = await options.store.sql.query<{ seq: string }>(
          "SELECT nextval('central_event_seq') AS seq",
        );
        const seq = Number(rows[0]!.seq);
        const at = now().toISOString();
        const event: Event = {
          v: EVENT_SCHEMA_VERSION,
          id: `${options.centralId}:${seq}`,
          gateway: options.centralId,
          seq,
          ts: at,
          received: at,
          source: 'central',
          fields: {},
          tags: [],
          ...input,
        };
        await options.store.insertEvents([event]);
        options.metrics.centralEvents.inc({ action: input.action });
        return event;
      } catch (error) {
        options.metrics.errors.inc({ component: 'central_events', stage: 'processing', code: 'store' });
        options.logger.error(
          { err: (error as Error).message, action: input.action },
          'could not store a central event',
        );
        return undefined;
      }
    },
  };
}

export type CentralEvents = ReturnType<typeof createCentralEvents>;
