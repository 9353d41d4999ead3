/**
 * The ingest step. Before each insert, `enrichOnInsert` has the enrichment annotate the batch in
 * place from memory (GeoIP, cached reverse DNS, asset, threat-intel hits under `fields`; see
 * enrich/annotate.ts), so they are stored with the event. Then, what runs after each batch a gateway sent is committed to the store (the link
 * acks only then, DESIGN.md "Delivery contract"). In this order, once per committed batch:
 *   1. subscriber: whoever started central asked to see committed events (benchmarks, tests);
 *   2. enrichment: the central device inventory and threat-intel hits (a hit raises an alert);
 *   3. detection: central's Sigma rules and correlations across gateways (raise alerts).
 * Alerts reach the forwarding sinks and the live stream through the alert service itself (its
 * outbox and its change emitter), not from here. Each step queues its own work and a failure in
 * one is logged and counted by that step, never thrown back to the link. What the steps hold is
 * bounded: past MAX_AFTER_COMMIT_EVENTS waiting in any step, the link stores no further batch (and
 * so acks none) and HTTP ingest answers 429 until they catch up; the gateways' disk queues hold
 * the rest. Without it a step slower than storage (a rebuild after a restart under load) held
 * every batch stored meanwhile until central ran out of heap (issue 18's soak).
 */
import type { Event } from '../protocols/event/schema.ts';
import type { EventStore } from './store/types.ts';

/**
 * Wraps `store.insertEvents` so every batch stored through it (the link, HTTP ingest, central's
 * own events) is enriched first. `annotate` runs synchronously and never throws back to ingest.
 */
export function enrichOnInsert(store: EventStore, annotate: (events: readonly Event[]) => void): void {
  const insert = store.insertEvents.bind(store);
  store.insertEvents = (events) => {
    annotate(events);
    return insert(events);
  };
}

/** Events waiting in an after-commit step past which storing waits (about 50–100 MB of events). */
export const MAX_AFTER_COMMIT_EVENTS = 50_000;
/** How often a waiting writer looks whether the steps caught up. */
const ROOM_POLL_MS = 20;

/** One thing that runs after each commit. */
export interface IngestStep {
  readonly name: string;
  onStored(events: Event[]): void;
  /** Events handed to it and not yet handled. */
  backlog?(): number;
}

export interface IngestDeps {
  enrichment: Pick<IngestStep, 'onStored' | 'backlog'>;
  detection: Pick<IngestStep, 'onStored' | 'backlog'>;
  /** Called first with each committed batch (CentralOptions.onStored). */
  subscriber?: (events: Event[]) => void;
}

export function createIngest(deps: IngestDeps, maxBacklog = MAX_AFTER_COMMIT_EVENTS) {
  const { subscriber, enrichment, detection } = deps;
  const steps: IngestStep[] = [
    ...(subscriber ? [{ name: 'subscriber', onStored: subscriber }] : []),
    { name: 'enrichment', onStored: (events) => enrichment.onStored(events) },
    { name: 'detection', onStored: (events) => detection.onStored(events) },
  ];
  /** The longest wait of any step (each sees every event). */
  const backlog = () => Math.max(enrichment.backlog?.() ?? 0, detection.backlog?.() ?? 0);
  let waiting: Promise<void> | undefined;
  return {
    /** The steps in the order they run, for logs and tests. */
    steps: steps.map((s) => s.name),
    /** The link calls this with every batch it committed. */
    afterCommit(events: Event[]): void {
      for (const step of steps) step.onStored(events);
    },
    backlog,
    /** Whether the steps are too far behind to take more now. */
    full: () => backlog() >= maxBacklog,
    /** Undefined when the steps can take more; else resolves once they can (one timer for all). */
    room(): Promise<void> | undefined {
      if (backlog() < maxBacklog) return undefined;
      waiting ??= new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (backlog() >= maxBacklog) return;
          clearInterval(timer);
          waiting = undefined;
          resolve();
        }, ROOM_POLL_MS);
        timer.unref();
      });
      return waiting;
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
