/**
 * Central's Prometheus metrics, on a registry of its own (tests run several servers in one
 * process). Counts what the link received, stored, found duplicate and rejected, and errors by
 * component, stage and code.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createCentralMetrics({ processMetrics = true } = {}) {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'siem_central_' });
  const registers = [registry];
  let unprocessed = () => 0;
  return {
    registry,
    unprocessed: new Gauge({
      name: 'siem_central_unprocessed_events',
      help: 'Events stored and not yet through enrichment or detection (past link.max_unprocessed_events nothing more is stored).',
      registers,
      collect() {
        this.set(unprocessed());
      },
    }),
    /** Where `unprocessed` reads from (central/ingest.ts, created after the metrics). */
    unprocessedSource(read: () => number): void {
      unprocessed = read;
    },
    linkConnections: new Gauge({
      name: 'siem_central_link_connections',
      help: 'Gateways connected now.',
      registers,
    }),
    batches: new Counter({
      name: 'siem_central_link_batches_total',
      help: 'Batches received and acked.',
      registers,
    }),
    inserted: new Counter({
      name: 'siem_central_link_events_inserted_total',
      help: 'Events stored.',
      labelNames: ['gateway'],
      registers,
    }),
    duplicates: new Counter({
      name: 'siem_central_link_events_duplicate_total',
      help: 'Events received again and not stored twice.',
      labelNames: ['gateway'],
      registers,
    }),
    rejected: new Counter({
      name: 'siem_central_link_events_rejected_total',
      help: 'Events that failed validation and were not stored.',
      labelNames: ['gateway', 'reason'],
      registers,
    }),
    errors: new Counter({
      name: 'siem_central_errors_total',
      help: 'Errors by component, stage and code.',
      labelNames: ['component', 'stage', 'code'],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'siem_central_store_insert_seconds',
      help: 'Time to commit one batch.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    authFailures: new Counter({
      name: 'siem_central_link_auth_failures_total',
      help: 'Refused link connections, by reason (unknown_gateway, revoked, bad_proof).',
      labelNames: ['reason'],
      registers,
    }),
    enrollFailures: new Counter({
      name: 'siem_central_enroll_failures_total',
      help: 'Refused enrollments, by reason (invalid_token, expired_token, used_token, ...).',
      labelNames: ['reason'],
      registers,
    }),
    refusalsSummarised: new Counter({
      name: 'siem_central_refusals_summarised_total',
      help: 'Refusals of unauthenticated peers folded into a per-address summary event instead of a row each, by action.',
      labelNames: ['action'],
      registers,
    }),
    throttled: new Counter({
      name: 'siem_central_link_throttled_total',
      help: 'Times central slowed a gateway down (rate limit delay or a shrunken window).',
      registers,
    }),
    centralEvents: new Counter({
      name: 'siem_central_events_raised_total',
      help: 'Events central raised itself (refused credentials, revocations, clock skew), by action.',
      labelNames: ['action'],
      registers,
    }),
    defaultPartitionRows: new Gauge({
      name: 'siem_central_store_default_partition_rows',
      help: 'Rows in events_default (timestamps outside every daily partition), as of the last lifecycle run.',
      registers,
    }),
    partitionsDropped: new Counter({
      name: 'siem_central_store_partitions_dropped_total',
      help: 'Daily partitions dropped by retention, by whether they were archived first.',
      labelNames: ['archived'],
      registers,
    }),
    playbookActions: new Counter({
      name: 'siem_central_playbook_actions_total',
      help: 'Playbook actions by type and the status each reached: pending, succeeded, failed, sent or queued (a gateway command), edge (left to the gateway), skipped (no target), rejected, undoing, undone, undo_failed.',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    alerts: new Counter({
      name: 'siem_central_alerts_total',
      help: 'Alert hits by outcome: created, grouped (into an open alert), suppressed, repeated (a hit raised already), error.',
      labelNames: ['outcome'],
      registers,
    }),
    sinkSent: new Counter({
      name: 'siem_central_sink_sent_total',
      help: 'Alerts delivered by each forwarding sink.',
      labelNames: ['sink'],
      registers,
    }),
    sinkFailures: new Counter({
      name: 'siem_central_sink_failures_total',
      help: 'Failed delivery attempts by sink and reason (refused, timeout, http_5xx, smtp_4xx, ...).',
      labelNames: ['sink', 'reason'],
      registers,
    }),
    sinkRejected: new Counter({
      name: 'siem_central_sink_rejected_total',
      help: 'Alerts a receiver refused for good (not retried), by sink.',
      labelNames: ['sink'],
      registers,
    }),
    sinkPending: new Gauge({
      name: 'siem_central_sink_outbox_pending',
      help: 'Alerts waiting in the outbox, by sink.',
      labelNames: ['sink'],
      registers,
    }),
    intelHits: new Counter({
      name: 'siem_central_intel_hits_total',
      help: 'Stored events matching a threat-intelligence indicator, by list and indicator type.',
      labelNames: ['list', 'type'],
      registers,
    }),
    enrichmentSkipped: new Counter({
      name: 'siem_central_enrichment_skipped_events_total',
      help: 'Stored events not enriched (inventory, intel) because the enrichment backlog was full.',
      registers,
    }),
    httpRequests: new Counter({
      name: 'siem_central_http_requests_total',
      help: 'HTTP requests by route and status.',
      labelNames: ['route', 'status'],
      registers,
    }),
  };
}

export type CentralMetrics = ReturnType<typeof createCentralMetrics>;
