/**
 * Central's REST API contract (central/api, server-shared/web-auth/routes.ts): the answers of the
 * routes the SOC dashboard reads, and the bodies it sends. Types only: central's routes check
 * their answers against them (`satisfies`), the SOC dashboard imports them with `import type`,
 * so a drift fails the type-check of one or the other. Errors have the shape of
 * protocols/api/errors.ts. Times are ISO 8601 strings (UTC).
 */

export type AlertStatus = 'new' | 'acknowledged' | 'resolved' | 'false_positive';

/** An alert of the queue (`GET /api/alerts`, `/api/alerts/:id`; the stream's `alert` event). */
export interface Alert {
  id: number;
  rule_id: string;
  rule_title: string;
  severity: number;
  techniques: string[];
  tags: string[];
  entity_type: 'device' | 'host';
  entity: string;
  device_id: string | null;
  host: string | null;
  gateway: string | null;
  site: string | null;
  event_ids: string[];
  count: number;
  first_seen: string;
  last_seen: string;
  status: AlertStatus;
  assignee: string | null;
  created_at: string;
  updated_at: string;
  /** What central knew of the addresses and asset the alert names when it was raised; null before. */
  enrichment: AlertEnrichment | null;
}

/** An asset's name, role and site (configuration, then central's inventory). */
export interface EnrichedAsset {
  name?: string;
  role?: string;
  site?: string;
}

/** One address an alert names: its host (`entity`), or a triggering event's `src` / `dst`. */
export interface EnrichedAddress {
  ip: string;
  seen_as: 'entity' | 'src' | 'dst';
  /** private, public, loopback, … (central/enrich/ip.ts). */
  scope: string;
  ot?: boolean;
  country?: string;
  city?: string;
  region?: string;
  /** `AS13335`, from the operator's ASN table. */
  asn?: string;
  as_name?: string;
  rdns?: string;
  asset?: EnrichedAsset;
}

/** A threat-intel indicator that matched, and the feed it came from. */
export interface IntelMatch {
  feed: string;
  type: string;
  indicator: string;
  field: string;
}

/** `Alert.enrichment` (central/enrich/alert.ts). */
export interface AlertEnrichment {
  addresses: EnrichedAddress[];
  /** The alert's device (or its host's configured asset). */
  asset?: EnrichedAsset & { device_id?: string };
  intel: IntelMatch[];
}

/** `GET /api/alerts/:id`, `PATCH /api/alerts/:id`: the alert with its comments and history. */
export interface AlertDetail extends Alert {
  comments: Array<{ id: number; author: string; body: string; created_at: string }>;
  history: Array<{ at: string; actor: string; change: string; from: string | null; to: string | null }>;
}

export type { AuditEntry, User } from './auth.ts';

/** A stored event (protocols/event/schema.ts, as JSON). */
export interface SiemEvent {
  id: string;
  gateway: string;
  seq: number;
  ts: string;
  received: string;
  source: string;
  kind: string;
  action: string;
  severity: number;
  message: string;
  host?: string;
  device?: { id?: string; name?: string; protocol_id?: string };
  src?: { ip?: string; port?: number };
  dst?: { ip?: string; port?: number };
  fields: Record<string, unknown>;
  tags: string[];
  threat?: { rule_id?: string; techniques?: string[] } & Record<string, unknown>;
}

/** The stream's `stats` event every 2 s, and `live` of the overview. */
export interface LiveStats {
  at: string;
  events_per_sec: number;
  gateways: Record<string, number>;
  gateways_connected: number;
}

export interface Bucket {
  start: string;
  count: number;
}

/** `GET /api/overview?range=1h|6h|24h|7d`. */
export interface Overview {
  from: string;
  to: string;
  range: string;
  interval_ms: number;
  events: { total: number; buckets: Bucket[] };
  live: LiveStats;
  alerts: {
    by_severity: Array<{ severity: number; count: number }>;
    by_technique: Array<{ technique: string; count: number }>;
    by_status: Record<string, number>;
  };
  top_devices: Array<{ value: string; count: number }>;
  top_hosts: Array<{ value: string; count: number }>;
  gateways: {
    enrolled: number;
    online: number;
    offline: string[];
    lagging: Array<{ id: string; lag_ms: number }>;
  };
}

/** One gateway of `GET /api/fleet`. */
export interface FleetGateway {
  id: string;
  status: 'active' | 'revoked';
  connected: boolean;
  connected_since: string | null;
  remote: string | null;
  software: string | null;
  enrolled_at: string;
  revoked_at: string | null;
  last_seen_at: string | null;
  clock_offset_ms: number | null;
  lag_ms: number | null;
  events_5m: number;
  last_event_received: string | null;
  events_per_sec: number;
  lagging: boolean;
  /** The gateway's queue as its last link heartbeat reported it (null: not connected / not reported). */
  queue: QueueReport | null;
}

/** Queued events by lane (link SPEC heartbeat `queue`), and when central heard it. */
export interface QueueReport {
  events: number;
  bytes: number;
  by_lane: { alert: number; security: number; telemetry: number };
  reported_at: string;
}

/** A managed Sigma rule (central/api/rules.ts, central/rules/store.ts). */
export interface RuleSummary {
  id: string;
  title: string;
  kind: 'detection' | 'correlation' | 'filter';
  level: string | null;
  tags: string[];
  techniques: string[];
  target: 'edge' | 'central';
  source: string;
  enabled: boolean;
  updated_at: string;
  updated_by: string | null;
}

/** Why an upload, a disable or a push was refused: which rule, which field, why. */
export interface RuleProblem {
  rule: string | null;
  field: string | null;
  why: string;
  code: string;
}

/** Per gateway, the rule set assigned by central and the one it reports running (link SPEC §8). */
export interface GatewayRulesState {
  assigned_version: string | null;
  assigned_at: string | null;
  running_set_id: string | null;
  running_version: string | null;
  reported_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

/** One row of `GET /api/gateways`. */
export interface GatewayRules {
  id: string;
  status: 'active' | 'revoked';
  connected: boolean;
  rules: GatewayRulesState | null;
}

/** A device of the central inventory, merged from every gateway (`GET /api/devices`). */
export interface Device {
  device_id: string;
  first_seen: string;
  last_seen: string;
  gateways: string[];
  protocols: string[];
  protocol_id: string | null;
  name: string | null;
  host: string | null;
  site?: string | null;
}

/** `GET /api/alerts?status=&severity_max=&entity=&rule_id=&assignee=&tag=&q=&before_id=&limit=`. */
export interface AlertsPage {
  alerts: Alert[];
  /** Pass as `before_id` for the next (older) page; null on the last. */
  next_before_id: number | null;
}

/** `PATCH /api/alerts/:id`: at least one of the two. */
export interface AlertPatch {
  status?: AlertStatus;
  assignee?: string | null;
}

/** `GET /api/events?…&limit=&cursor=`: newest first. */
export interface EventsPage {
  events: SiemEvent[];
  /** Pass as `cursor` for the next page; null on the last. */
  next_cursor: string | null;
}

/** `GET /api/events/histogram?…&interval=`. */
export interface Histogram {
  from: string;
  to: string;
  interval: string;
  interval_ms: number;
  total: number;
  buckets: Bucket[];
}

/** `GET /api/fleet`. */
export interface Fleet {
  /** A connected gateway whose newest events took longer than this is lagging. */
  lagging_ms: number;
  gateways: FleetGateway[];
}

/** `GET /api/gateways`. */
export interface GatewaysResponse {
  gateways: Array<
    GatewayRules & {
      enrolled_at: string;
      revoked_at: string | null;
      last_seen_at: string | null;
      clock_offset_ms: number | null;
    }
  >;
}

/** `GET /api/rules?target=`. */
export interface RulesResponse {
  rules: RuleSummary[];
}

/** `GET /api/devices?gateway=&protocol=&limit=`. */
export interface DevicesResponse {
  devices: Device[];
}
