/**
 * Central's REST answers (protocols/api/central.ts) as zod schemas, for its OpenAPI document
 * (server-shared/openapi, central/api/openapi.ts). Each is checked against its TypeScript type
 * (`sameShape`), so the document and the type the routes `satisfies` cannot drift.
 */
import { z } from 'zod';
import type * as Api from './central.ts';
import { sameShape } from './schema-check.ts';

const time = z.string().describe('ISO 8601, UTC');
const count = z.number().int();

export const alertStatusSchema = z.enum(['new', 'acknowledged', 'resolved', 'false_positive']);

const alertShape = {
  id: count,
  rule_id: z.string(),
  rule_title: z.string(),
  severity: z.number().int(),
  techniques: z.array(z.string()),
  tags: z.array(z.string()),
  entity_type: z.enum(['device', 'host']),
  entity: z.string(),
  device_id: z.string().nullable(),
  host: z.string().nullable(),
  gateway: z.string().nullable(),
  site: z.string().nullable(),
  event_ids: z.array(z.string()),
  count,
  first_seen: time,
  last_seen: time,
  status: alertStatusSchema,
  assignee: z.string().nullable(),
  created_at: time,
  updated_at: time,
  enrichment: z
    .object({
      addresses: z.array(
        z.object({
          ip: z.string(),
          seen_as: z.enum(['entity', 'src', 'dst']),
          scope: z.string(),
          ot: z.boolean().optional(),
          country: z.string().optional(),
          city: z.string().optional(),
          region: z.string().optional(),
          asn: z.string().optional(),
          as_name: z.string().optional(),
          rdns: z.string().optional(),
          asset: z
            .object({ name: z.string().optional(), role: z.string().optional(), site: z.string().optional() })
            .optional(),
        }),
      ),
      asset: z
        .object({
          device_id: z.string().optional(),
          name: z.string().optional(),
          role: z.string().optional(),
          site: z.string().optional(),
        })
        .optional(),
      intel: z.array(
        z.object({ feed: z.string(), type: z.string(), indicator: z.string(), field: z.string() }),
      ),
    })
    .nullable()
    .describe('Geo, ASN, reverse DNS, asset and threat-intel matches of what the alert names'),
};
export const alertSchema = z.object(alertShape).meta({ id: 'Alert' });
export const alertCommentSchema = z
  .object({ id: count, author: z.string(), body: z.string(), created_at: time })
  .meta({ id: 'AlertComment' });
export const alertDetailSchema = z
  .object({
    ...alertShape,
    comments: z.array(alertCommentSchema),
    history: z.array(
      z.object({
        at: time,
        actor: z.string(),
        change: z.string(),
        from: z.string().nullable(),
        to: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'AlertDetail' });
export const alertsPageSchema = z
  .object({ alerts: z.array(alertSchema), next_before_id: count.nullable() })
  .meta({ id: 'AlertsPage' });

const endpoint = z.object({ ip: z.string().optional(), port: z.number().int().optional() });
export const siemEventSchema = z
  .object({
    id: z.string(),
    gateway: z.string(),
    seq: count,
    ts: time,
    received: time,
    source: z.string(),
    kind: z.string(),
    action: z.string(),
    severity: z.number().int(),
    message: z.string(),
    host: z.string().optional(),
    device: z
      .object({ id: z.string().optional(), name: z.string().optional(), protocol_id: z.string().optional() })
      .optional(),
    src: endpoint.optional(),
    dst: endpoint.optional(),
    fields: z.record(z.string(), z.unknown()),
    tags: z.array(z.string()),
    threat: z
      .looseObject({ rule_id: z.string().optional(), techniques: z.array(z.string()).optional() })
      .optional(),
  })
  .meta({ id: 'Event' });
export const eventsPageSchema = z
  .object({ events: z.array(siemEventSchema), next_cursor: z.string().nullable() })
  .meta({ id: 'EventsPage' });

const bucket = z.object({ start: time, count });
export const histogramSchema = z
  .object({
    from: time,
    to: time,
    interval: z.string(),
    interval_ms: count,
    total: count,
    buckets: z.array(bucket),
  })
  .meta({ id: 'Histogram' });

export const liveStatsSchema = z
  .object({
    at: time,
    events_per_sec: z.number(),
    gateways: z.record(z.string(), z.number()),
    gateways_connected: count,
  })
  .meta({ id: 'LiveStats' });

const valueCount = z.object({ value: z.string(), count });
export const overviewSchema = z
  .object({
    from: time,
    to: time,
    range: z.string(),
    interval_ms: count,
    events: z.object({ total: count, buckets: z.array(bucket) }),
    live: liveStatsSchema,
    alerts: z.object({
      by_severity: z.array(z.object({ severity: z.number().int(), count })),
      by_technique: z.array(z.object({ technique: z.string(), count })),
      by_status: z.record(z.string(), count),
    }),
    top_devices: z.array(valueCount),
    top_hosts: z.array(valueCount),
    gateways: z.object({
      enrolled: count,
      online: count,
      offline: z.array(z.string()),
      lagging: z.array(z.object({ id: z.string(), lag_ms: z.number() })),
    }),
  })
  .meta({ id: 'Overview' });

export const queueReportSchema = z
  .object({
    events: count,
    bytes: count,
    by_lane: z.object({ alert: count, security: count, telemetry: count }),
    reported_at: time,
  })
  .meta({ id: 'QueueReport' });

export const fleetSchema = z
  .object({
    lagging_ms: z.number(),
    gateways: z.array(
      z.object({
        id: z.string(),
        status: z.enum(['active', 'revoked']),
        connected: z.boolean(),
        connected_since: time.nullable(),
        remote: z.string().nullable(),
        software: z.string().nullable(),
        enrolled_at: time,
        revoked_at: time.nullable(),
        last_seen_at: time.nullable(),
        clock_offset_ms: z.number().nullable(),
        lag_ms: z.number().nullable(),
        events_5m: count,
        last_event_received: time.nullable(),
        events_per_sec: z.number(),
        lagging: z.boolean(),
        queue: queueReportSchema.nullable(),
      }),
    ),
  })
  .meta({ id: 'Fleet' });

export const ruleSummarySchema = z
  .object({
    id: z.string(),
    title: z.string(),
    kind: z.enum(['detection', 'correlation', 'filter']),
    level: z.string().nullable(),
    tags: z.array(z.string()),
    techniques: z.array(z.string()),
    target: z.enum(['edge', 'central']),
    source: z.string(),
    enabled: z.boolean(),
    updated_at: time,
    updated_by: z.string().nullable(),
  })
  .meta({ id: 'RuleSummary' });
export const rulesResponseSchema = z
  .object({ rules: z.array(ruleSummarySchema) })
  .meta({ id: 'RulesResponse' });

export const gatewayRulesStateSchema = z.object({
  assigned_version: z.string().nullable(),
  assigned_at: time.nullable(),
  running_set_id: z.string().nullable(),
  running_version: z.string().nullable(),
  reported_at: time.nullable(),
  last_error: z.string().nullable(),
  last_error_at: time.nullable(),
});
export const gatewaysResponseSchema = z
  .object({
    gateways: z.array(
      z.object({
        id: z.string(),
        status: z.enum(['active', 'revoked']),
        connected: z.boolean(),
        rules: gatewayRulesStateSchema.nullable(),
        enrolled_at: time,
        revoked_at: time.nullable(),
        last_seen_at: time.nullable(),
        clock_offset_ms: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'GatewaysResponse' });

export const centralDeviceSchema = z
  .object({
    device_id: z.string(),
    first_seen: time,
    last_seen: time,
    gateways: z.array(z.string()),
    protocols: z.array(z.string()),
    protocol_id: z.string().nullable(),
    name: z.string().nullable(),
    host: z.string().nullable(),
    site: z.string().nullable().optional(),
  })
  .meta({ id: 'CentralDevice' });
export const centralDevicesResponseSchema = z
  .object({ devices: z.array(centralDeviceSchema) })
  .meta({ id: 'CentralDevicesResponse' });

sameShape<z.output<typeof alertSchema>, Api.Alert>(true);
sameShape<z.output<typeof alertDetailSchema>, Api.AlertDetail>(true);
sameShape<z.output<typeof alertsPageSchema>, Api.AlertsPage>(true);
sameShape<z.output<typeof siemEventSchema>, Api.SiemEvent>(true);
sameShape<z.output<typeof eventsPageSchema>, Api.EventsPage>(true);
sameShape<z.output<typeof histogramSchema>, Api.Histogram>(true);
sameShape<z.output<typeof liveStatsSchema>, Api.LiveStats>(true);
sameShape<z.output<typeof overviewSchema>, Api.Overview>(true);
sameShape<z.output<typeof queueReportSchema>, Api.QueueReport>(true);
sameShape<z.output<typeof fleetSchema>, Api.Fleet>(true);
sameShape<z.output<typeof ruleSummarySchema>, Api.RuleSummary>(true);
sameShape<z.output<typeof rulesResponseSchema>, Api.RulesResponse>(true);
sameShape<z.output<typeof gatewayRulesStateSchema>, Api.GatewayRulesState>(true);
sameShape<z.output<typeof gatewaysResponseSchema>, Api.GatewaysResponse>(true);
sameShape<z.output<typeof centralDeviceSchema>, Api.Device>(true);
sameShape<z.output<typeof centralDevicesResponseSchema>, Api.DevicesResponse>(true);
