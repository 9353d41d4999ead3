/**
 * The shapes of the gateway API the device dashboard reads (gateway/http: `/api/status`,
 * `/api/devices`, `/api/devices/:id/{series,events,baseline}`, `/api/alerts`, and the `status`,
 * `device` and `alert` events of `GET /api/stream`, server-shared/web-auth/SPEC.md §5). Declared here
 * because the dashboards import nothing from the servers: they speak HTTP only.
 */

export type Lane = 'alert' | 'security' | 'telemetry';

export interface GatewayStatus {
  status: 'ok' | 'degraded';
  gateway: string;
  link: {
    connected: boolean;
    connected_since: string | null;
    disconnected_since?: string | null;
    last_error: string | null;
    in_flight_batches: number;
    clock_offset_ms: number | null;
    ack_rate_per_sec: number;
  };
  queue: {
    events: number;
    bytes: number;
    byLane: Record<Lane, number>;
    bytesByLane: Record<Lane, number>;
    max_size_bytes: number;
    last_write_error: string | null;
    oldest_unsent_age_secs: number | null;
    expected_drain_secs: number | null;
  };
  sources: Array<{
    name: string;
    type: string;
    addresses: Array<{ transport: string; host: string; port: number }>;
  }>;
  process: { rss_bytes: number; heap_used_bytes: number };
}

export type BaselineState = 'learning' | 'learned' | 'none';

export interface Device {
  id: string;
  protocol: string;
  protocol_id: string | null;
  host: string | null;
  addresses: string[];
  first_seen: string;
  last_seen: string;
  events: number;
  security_events: number;
  last_action: string;
  rate_per_min: number;
  baseline?: BaselineState;
}

export interface LatestValue {
  value: number;
  ts: number;
  unit?: string;
}

export interface ValueSeries {
  name: string;
  unit?: string;
  t: number[];
  v: number[];
}

export interface EventSummary {
  id?: string;
  ts: string;
  source: string;
  kind: string;
  action: string;
  severity: number;
  message: string;
  device?: string;
}

export interface AlertSummary extends EventSummary {
  alert_id: string;
  rule_name?: string;
  techniques: string[];
  count: number;
}

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

export interface DeviceUpdate {
  device: Device;
  values: Record<string, LatestValue>;
}
