/**
 * The gateway's REST API contract (gateway/http): what `/api/status`, `/api/devices`,
 * `/api/devices/:id`, `/api/devices/:id/{series,events,baseline}`, `/api/alerts` and the
 * `status`, `device` and `alert` events of `GET /api/stream` answer (server-shared/web-auth/
 * SPEC.md §5). Types only: the gateway's routes check their answers against them (`satisfies`),
 * the device dashboard imports them with `import type`, so a drift fails the type-check of one
 * or the other. Errors have the shape of protocols/api/errors.ts.
 */

export type Lane = 'alert' | 'security' | 'telemetry';

/** `GET /healthz` (anonymous: no name, version or count). */
export interface GatewayHealth {
  status: 'ok' | 'degraded';
}

/** `GET /api/status`, and the `status` event of the stream every 2 s. */
export interface GatewayStatus {
  status: 'ok' | 'degraded';
  gateway: string;
  link: {
    connected: boolean;
    connected_since: string | null;
    last_error: string | null;
    in_flight_batches: number;
    window: number;
    paused_until: string | null;
    clock_offset_ms: number | null;
    /** While the link is down: since when (gateway start, or the last disconnect). */
    disconnected_since: string | null;
    ack_rate_per_sec: number;
    /** The central endpoint the link uses now, or tries next while it is down. */
    endpoint: string;
    /** Its position in `central.endpoints` (0: the preferred one; more: failed over). */
    endpoint_index: number;
    /** Every configured endpoint, most preferred first. */
    endpoints: string[];
    /** Switches from one endpoint to another since start (failovers and failbacks). */
    endpoint_switches: number;
  };
  queue: QueueDepth & {
    max_size_bytes: number;
    /** The last failed queue write (full disk, I/O error), until a write succeeds again. */
    last_write_error: string | null;
    oldest_unsent_age_secs: number | null;
    /** Backlog over the recent ack rate; null while nothing is being acked (link down). */
    expected_drain_secs: number | null;
  };
  sources: Array<{
    name: string;
    type: string;
    addresses: Array<{ transport: string; host: string; port: number }>;
    /** What the source wants a person to know (e.g. MQTT 5 clients refused); absent when nothing. */
    notes?: string[];
  }>;
  /** Each pipeline stage's counts since start: why an event is (not) on central. */
  pipeline?: PipelineCounts;
  process: {
    rss_bytes: number;
    heap_used_bytes: number;
    external_bytes: number;
    array_buffers_bytes: number;
  };
}

/** `pipeline` of `/api/status`: the forward profile and each stage's counts, in pipeline order. */
export interface PipelineCounts {
  forward: string;
  stages: Array<{
    name: string;
    type: string;
    in: number;
    out: number;
    dropped: number;
    created: number;
    drop_reason: string;
  }>;
}

/** The queue's depth (gateway/queue): records, events and bytes, by lane, and what was evicted. */
export interface QueueDepth {
  records: number;
  events: number;
  bytes: number;
  byLane: Record<Lane, number>;
  bytesByLane: Record<Lane, number>;
  /** Events evicted since the queue was created, by lane (alerts are never evicted). */
  evicted: { security: number; telemetry: number };
}

export type BaselineState = 'learning' | 'learned' | 'none';

/** A device of the gateway's inventory (`GET /api/devices/:id`; with `baseline` in the list). */
export interface Device {
  id: string;
  protocol: string;
  protocol_id: string | null;
  /** The name the device gives itself when its protocol tells it (S7 station name, CIP product name). */
  name?: string;
  /**
   * What the device's protocol says it is, latest first seen (gateway/inventory `IDENTITY_FIELDS`):
   * DNP3 outstation address, S7 module, order number, firmware and serial, CIP vendor, product
   * and serial, BACnet vendor, OPC UA application URI; absent when nothing was said.
   */
  identity?: Record<string, string>;
  host: string | null;
  addresses: string[];
  first_seen: string;
  last_seen: string;
  events: number;
  security_events: number;
  last_action: string;
  /** Events per minute, exponentially weighted (about a 5-minute memory). */
  rate_per_min: number;
  baseline?: BaselineState;
}

/** `GET /api/devices?protocol=&q=`: at most 1,000 devices, `total` counts all that matched. */
export interface DevicesResponse {
  devices: Device[];
  total: number;
  /** Devices dropped from the inventory at its cap. */
  forgotten: number;
}

export interface LatestValue {
  value: number;
  ts: number;
  unit?: string;
}

export interface ValueSeries {
  name: string;
  unit?: string;
  /** Times in ms since the epoch, oldest first. */
  t: number[];
  v: number[];
}

/** `GET /api/devices/:id/series?since=&field=`. */
export interface DeviceSeriesResponse {
  device: string;
  series: ValueSeries[];
}

/** An event as the dashboard lists it. */
export interface EventSummary {
  id?: string;
  ts: string;
  received: string;
  source: string;
  kind: string;
  action: string;
  severity: number;
  message: string;
  device?: string;
  tags: string[];
}

/** A local alert (an `alert` event from edge detection); also the stream's `alert` event. */
export interface AlertSummary extends EventSummary {
  alert_id: string;
  rule_id?: string;
  rule_name?: string;
  techniques: string[];
  count: number;
  first_seen?: string;
  last_seen?: string;
}

/** `GET /api/devices/:id/events?limit=`. */
export interface DeviceEventsResponse {
  device: string;
  events: EventSummary[];
  alerts: AlertSummary[];
}

/** `GET /api/devices/:id/baseline`: `state` only while there is none (or baselines are off). */
export interface Baseline {
  device: string;
  state: BaselineState | 'disabled';
  since?: string;
  learned_at?: string;
  peers?: string[];
  actions?: string[];
  ranges?: Record<string, { min: number; max: number }>;
  peak_rate_per_min?: number;
  changes?: Array<{ kind: string; detail?: string; point?: string; value?: number; at?: string }>;
}

/** `GET /api/alerts?device=&limit=`: the local alerts, newest first, and the history's size. */
export interface AlertsResponse {
  alerts: AlertSummary[];
  stats: {
    devices: number;
    values: number;
    refused_values: number;
    forgotten_devices: number;
    alerts: number;
    /** Upper bound of the value rings' memory. */
    value_bytes: number;
  };
}

/** The stream's `device` event: a device whose values or events changed (at most 1/s each). */
export interface DeviceUpdate {
  device: Device;
  values: Record<string, LatestValue>;
}
