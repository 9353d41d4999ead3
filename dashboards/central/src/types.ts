/**
 * The shapes of central's API answers the SOC dashboard reads (central/api/*.ts and
 * server-shared/web-auth/routes.ts). Declared here because the dashboards import nothing from the
 * servers: they speak HTTP only (DESIGN.md, "Folders").
 */

export const ALERT_STATUSES = ['new', 'acknowledged', 'resolved', 'false_positive'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

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
}

export interface AlertDetail extends Alert {
  comments: Array<{ id: number; author: string; body: string; created_at: string }>;
  history: Array<{ at: string; actor: string; change: string; from: string | null; to: string | null }>;
}

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

export interface User {
  username: string;
  role: string;
  totp_enabled: boolean;
  require_totp: boolean;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface AuditEntry {
  id: number;
  ts: string;
  actor: string;
  action: string;
  target: string | null;
  address: string | null;
  outcome: string;
  detail: Record<string, unknown> | null;
}
