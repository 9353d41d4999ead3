/**
 * The ingest step. Before each insert, `enrichOnInsert` has the enrichment annotate the batch in
 * place from memory (GeoIP, cached reverse DNS, asset, threat-intel hits under `fields`; see
 * enrich/annotate.ts), so they are stored with the event. Then, what runs after each batch a gateway sent is committed to the store (the link
 * acks only then, DESIGN.md "Delivery contract"). In this order, once per committed batch:
 *   1. subscriber: whoever started central asked to see committed events (benchmarks, tests);
 *   2. enrichment: the central device inventory and threat-intel hits (a hit raises an alert);
 *   3. detection: central's Sigma rules and correlations across gateways (raise alerts).
 * Alerts reach the forwarding sinks and the live stream through the alert service itself (its
 * outbox and its change emitter), not from here. Each step queues its own work: none blocks the
 * link, and a failure in one is logged and counted by that step, never thrown back to the link.
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

/** One thing that runs after each commit. */
export interface IngestStep {
  readonly name: string;
  onStored(events: Event[]): void;
}

export interface IngestDeps {
  enrichment: Pick<IngestStep, 'onStored'>;
  detection: Pick<IngestStep, 'onStored'>;
  /** Called first with each committed batch (CentralOptions.onStored). */
  subscriber?: (events: Event[]) => void;
}

export function createIngest(deps: IngestDeps) {
  const { subscriber } = deps;
  const steps: IngestStep[] = [
    ...(subscriber ? [{ name: 'subscriber', onStored: subscriber }] : []),
    { name: 'enrichment', onStored: (events) => deps.enrichment.onStored(events) },
    { name: 'detection', onStored: (events) => deps.detection.onStored(events) },
  ];
  return {
    /** The steps in the order they run, for logs and tests. */
    steps: steps.map((s) => s.name),
    /** The link calls this with every batch it committed. */
    afterCommit(events: Event[]): void {
      for (const step of steps) step.onStored(events);
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
