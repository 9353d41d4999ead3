/**
 * The gateway's REST answers (protocols/api/gateway.ts) as zod schemas, for its OpenAPI document
 * (server-shared/openapi, gateway/http/openapi.ts). Each is checked against its TypeScript type
 * (`sameShape`), so the document and the type the routes `satisfies` cannot drift.
 */
import { z } from 'zod';
import type * as Gw from './gateway.ts';
import { sameShape } from './schema-check.ts';

const time = z.string().describe('ISO 8601, UTC');
const count = z.number().int();
const lanes = z.object({ alert: count, security: count, telemetry: count });

export const gatewayStatusSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    gateway: z.string(),
    link: z.object({
      connected: z.boolean(),
      connected_since: time.nullable(),
      last_error: z.string().nullable(),
      in_flight_batches: count,
      window: count,
      paused_until: time.nullable(),
      clock_offset_ms: z.number().nullable(),
      disconnected_since: time.nullable(),
      ack_rate_per_sec: z.number(),
      endpoint: z.string(),
      endpoint_index: count,
      endpoints: z.array(z.string()),
      endpoint_switches: count,
    }),
    queue: z.object({
      records: count,
      events: count,
      bytes: count,
      byLane: lanes,
      bytesByLane: lanes,
      evicted: z.object({ security: count, telemetry: count }),
      max_size_bytes: count,
      last_write_error: z.string().nullable(),
      oldest_unsent_age_secs: z.number().nullable(),
      expected_drain_secs: z.number().nullable(),
    }),
    sources: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        addresses: z.array(z.object({ transport: z.string(), host: z.string(), port: count })),
        notes: z.array(z.string()).optional(),
      }),
    ),
    pipeline: z
      .object({
        forward: z.string(),
        stages: z.array(
          z.object({
            name: z.string(),
            type: z.string(),
            in: count,
            out: count,
            dropped: count,
            created: count,
            drop_reason: z.string(),
          }),
        ),
      })
      .optional(),
    process: z.object({
      rss_bytes: count,
      heap_used_bytes: count,
      external_bytes: count,
      array_buffers_bytes: count,
    }),
  })
  .meta({ id: 'GatewayStatus' });

const baselineState = z.enum(['learning', 'learned', 'none']);
export const gatewayDeviceSchema = z
  .object({
    id: z.string(),
    protocol: z.string(),
    protocol_id: z.string().nullable(),
    name: z.string().optional(),
    identity: z.record(z.string(), z.string()).optional(),
    host: z.string().nullable(),
    addresses: z.array(z.string()),
    first_seen: time,
    last_seen: time,
    events: count,
    security_events: count,
    last_action: z.string(),
    rate_per_min: z.number(),
    baseline: baselineState.optional(),
  })
  .meta({ id: 'GatewayDevice' });
export const gatewayDevicesResponseSchema = z
  .object({ devices: z.array(gatewayDeviceSchema), total: count, forgotten: count })
  .meta({ id: 'GatewayDevicesResponse' });

export const deviceSeriesResponseSchema = z
  .object({
    device: z.string(),
    series: z.array(
      z.object({
        name: z.string(),
        unit: z.string().optional(),
        t: z.array(z.number()).describe('ms since the epoch, oldest first'),
        v: z.array(z.number()),
      }),
    ),
  })
  .meta({ id: 'DeviceSeriesResponse' });

const eventSummaryShape = {
  id: z.string().optional(),
  ts: time,
  received: time,
  source: z.string(),
  kind: z.string(),
  action: z.string(),
  severity: z.number().int(),
  message: z.string(),
  device: z.string().optional(),
  tags: z.array(z.string()),
};
export const eventSummarySchema = z.object(eventSummaryShape).meta({ id: 'EventSummary' });
export const alertSummarySchema = z
  .object({
    ...eventSummaryShape,
    alert_id: z.string(),
    rule_id: z.string().optional(),
    rule_name: z.string().optional(),
    techniques: z.array(z.string()),
    count,
    first_seen: time.optional(),
    last_seen: time.optional(),
  })
  .meta({ id: 'AlertSummary' });
export const deviceEventsResponseSchema = z
  .object({ device: z.string(), events: z.array(eventSummarySchema), alerts: z.array(alertSummarySchema) })
  .meta({ id: 'DeviceEventsResponse' });

export const baselineSchema = z
  .object({
    device: z.string(),
    state: z.enum(['learning', 'learned', 'none', 'disabled']),
    since: time.optional(),
    learned_at: time.optional(),
    peers: z.array(z.string()).optional(),
    actions: z.array(z.string()).optional(),
    ranges: z.record(z.string(), z.object({ min: z.number(), max: z.number() })).optional(),
    peak_rate_per_min: z.number().optional(),
    changes: z
      .array(
        z.object({
          kind: z.string(),
          detail: z.string().optional(),
          point: z.string().optional(),
          value: z.number().optional(),
          at: time.optional(),
        }),
      )
      .optional(),
  })
  .meta({ id: 'Baseline' });

export const gatewayAlertsResponseSchema = z
  .object({
    alerts: z.array(alertSummarySchema),
    stats: z.object({
      devices: count,
      values: count,
      refused_values: count,
      forgotten_devices: count,
      alerts: count,
      value_bytes: count,
    }),
  })
  .meta({ id: 'GatewayAlertsResponse' });

sameShape<z.output<typeof gatewayStatusSchema>, Gw.GatewayStatus>(true);
sameShape<z.output<typeof gatewayDeviceSchema>, Gw.Device>(true);
sameShape<z.output<typeof gatewayDevicesResponseSchema>, Gw.DevicesResponse>(true);
sameShape<z.output<typeof deviceSeriesResponseSchema>, Gw.DeviceSeriesResponse>(true);
sameShape<z.output<typeof eventSummarySchema>, Gw.EventSummary>(true);
sameShape<z.output<typeof alertSummarySchema>, Gw.AlertSummary>(true);
sameShape<z.output<typeof deviceEventsResponseSchema>, Gw.DeviceEventsResponse>(true);
sameShape<z.output<typeof baselineSchema>, Gw.Baseline>(true);
sameShape<z.output<typeof gatewayAlertsResponseSchema>, Gw.AlertsResponse>(true);
