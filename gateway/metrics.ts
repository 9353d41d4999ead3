/**
 * The gateway's Prometheus metrics, on a registry of its own (so that several gateways can run
 * in one process, as the tests and the demo do). Every component counts what it received, sent
 * and dropped (with a reason) and its errors (with a bounded code and the stage).
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export function createGatewayMetrics(gateway: string, { processMetrics = true } = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ gateway });
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'siem_gateway_' });
  const registers = [registry];
  return {
    registry,
    received: new Counter({
      name: 'siem_gateway_events_received_total',
      help: 'Events received from devices, by source component.',
      labelNames: ['source'],
      registers,
    }),
    queued: new Counter({
      name: 'siem_gateway_events_queued_total',
      help: 'Events made durable in the queue.',
      registers,
    }),
    playbookActions: new Counter({
      name: 'siem_gateway_playbook_actions_total',
      help: 'Response playbook changes on this gateway by type and outcome (ok, failed), local runs and central commands.',
      labelNames: ['type', 'outcome', 'trigger'],
      registers,
    }),
    responseEntries: new Gauge({
      name: 'siem_gateway_response_entries',
      help: 'Response entries in force (blocked MQTT clients and addresses, denied Modbus masters, enforced proxies).',
      registers,
    }),
    alerts: new Counter({
      name: 'siem_gateway_alerts_total',
      help: 'Alerts raised by edge detection (new and updated).',
      registers,
    }),
    rules: new Gauge({
      name: 'siem_gateway_rules_loaded',
      help: 'Sigma rules running at the edge, and rules refused (state="refused").',
      labelNames: ['state'],
      registers,
    }),
    dropped: new Counter({
      name: 'siem_gateway_events_dropped_total',
      help: 'Events dropped, by component and reason.',
      labelNames: ['source', 'reason'],
      registers,
    }),
    errors: new Counter({
      name: 'siem_gateway_errors_total',
      help: 'Errors by component, stage (receiving, processing, sending) and code.',
      labelNames: ['component', 'stage', 'code'],
      registers,
    }),
    eventsSent: new Counter({
      name: 'siem_gateway_link_events_sent_total',
      help: 'Events sent to central (a resend counts again).',
      registers,
    }),
    eventsAcked: new Counter({
      name: 'siem_gateway_link_events_acked_total',
      help: 'Events central acked as stored.',
      registers,
    }),
    reconnects: new Counter({
      name: 'siem_gateway_link_reconnects_total',
      help: 'Reconnection attempts to central.',
      registers,
    }),
    throttled: new Counter({
      name: 'siem_gateway_link_throttled_total',
      help: 'Times central asked this gateway to slow down (flow control).',
      registers,
    }),
    linkConnected: new Gauge({
      name: 'siem_gateway_link_connected',
      help: '1 when the link to central is up.',
      registers,
    }),
    linkEndpoint: new Gauge({
      name: 'siem_gateway_link_endpoint',
      help: 'Per configured central endpoint (position 0 is preferred): 1 for the one the link uses or tries now, 0 for the others.',
      labelNames: ['endpoint', 'position'] as const,
      registers,
    }),
    failovers: new Counter({
      name: 'siem_gateway_link_failovers_total',
      help: 'Switches of the link from one central endpoint to another, by why: failover (link lost or handshake failed) or failback (back to the preferred one).',
      labelNames: ['reason'] as const,
      registers,
    }),
    inFlightBatches: new Gauge({
      name: 'siem_gateway_link_in_flight_batches',
      help: 'Batches sent and not yet acked.',
      registers,
    }),
    clockOffset: new Gauge({
      name: 'siem_gateway_clock_offset_ms',
      help: 'Gateway clock minus central clock, from the last heartbeat.',
      registers,
    }),
    queueEvents: new Gauge({
      name: 'siem_gateway_queue_events',
      help: 'Events waiting in the queue, by lane.',
      labelNames: ['lane'],
      registers,
    }),
    queueLaneBytes: new Gauge({
      name: 'siem_gateway_queue_lane_bytes',
      help: 'Bytes of queued records, by lane.',
      labelNames: ['lane'],
      registers,
    }),
    oldestUnsentAge: new Gauge({
      name: 'siem_gateway_queue_oldest_unsent_age_seconds',
      help: 'Age of the oldest event not yet acked by central (0 when the queue is empty).',
      registers,
    }),
    queueBytes: new Gauge({
      name: 'siem_gateway_queue_bytes',
      help: 'Bytes of queued records.',
      registers,
    }),
    evicted: new Counter({
      name: 'siem_gateway_queue_evicted_events_total',
      help: 'Events evicted from the queue by the disk cap, by lane (alerts are never evicted).',
      labelNames: ['lane'],
      registers,
    }),
    queueCorrupt: new Gauge({
      name: 'siem_gateway_queue_corrupt_records',
      help: 'Queue records found unreadable at start (skipped, never sent).',
      registers,
    }),
    sensorEvents: new Counter({
      name: 'siem_gateway_sensor_events_total',
      help: 'Observations the MQTT and CoAP sensors turned into events, by source component and action.',
      labelNames: ['source', 'action'],
      registers,
    }),
    mqttClients: new Gauge({
      name: 'siem_gateway_mqtt_clients',
      help: 'MQTT clients connected to an embedded broker.',
      labelNames: ['source'],
      registers,
    }),
    mqttPendingPublishes: new Gauge({
      name: 'siem_gateway_mqtt_pending_publishes',
      help: 'Publishes an embedded broker accepted whose events are not durable yet (bounded by max_pending_publishes).',
      labelNames: ['source'],
      registers,
    }),
    mqttReadPauses: new Counter({
      name: 'siem_gateway_mqtt_read_pauses_total',
      help: 'Times an embedded broker stopped reading its clients: pending publishes over max_pending_publishes or max_pending_bytes.',
      labelNames: ['source'],
      registers,
    }),
    connections: new Gauge({
      name: 'siem_gateway_source_connections',
      help: 'Open connections per stream source.',
      labelNames: ['source'],
      registers,
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
