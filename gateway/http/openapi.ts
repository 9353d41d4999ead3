/**
 * The gateway's OpenAPI route table (server-shared/openapi): each /api route of gateway/http with
 * the schema of its answer (protocols/api/gateway-schemas.ts). These routes read their few query
 * parameters by hand (no zod schema to share), so the queries here describe what they read.
 * A route added without a line here is named by tests/api/openapi.test.ts.
 */
import { z } from 'zod';
import * as G from '../../protocols/api/gateway-schemas.ts';
import { answer, type RouteDocs } from '../../server-shared/openapi/index.ts';
import { AUTH_ROUTE_DOCS } from '../../server-shared/openapi/auth-routes.ts';
import { SHARED_ROUTE_DOCS } from '../../server-shared/openapi/shared-routes.ts';

const responseEntry = z.object({
  id: z.string(),
  type: z.enum(['mqtt_block_client', 'mqtt_block_address', 'modbus_deny_master', 'modbus_enforce']),
  source: z.string().optional(),
  value: z.string().optional(),
  expire_secs: z.number().optional(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  by: z.string(),
});

export const GATEWAY_ROUTE_DOCS: RouteDocs = {
  ...AUTH_ROUTE_DOCS,
  ...SHARED_ROUTE_DOCS,
  'GET /api/response': {
    summary:
      "The playbooks central pushed and the blocks they keep here (docs/central.md 'Response playbooks')",
    responses: answer(
      'The set and the entries',
      z.object({
        playbooks_version: z.string().nullable(),
        playbooks: z.array(z.looseObject({ id: z.string() })),
        entries: z.array(responseEntry),
      }),
    ),
  },
  'DELETE /api/response/:id': {
    summary: 'Lift one block here (admin), for when the link to central is down; central learns of it',
    responses: answer('The entry lifted', responseEntry),
  },
  'GET /api/status': {
    summary: 'Link, queue, sources, pipeline counts and memory',
    responses: answer('The status', G.gatewayStatusSchema),
  },
  'GET /api/devices': {
    summary: 'Devices of the inventory (at most 1,000; `total` counts all that matched)',
    query: z.object({ protocol: z.string().optional(), q: z.string().max(128).optional() }),
    responses: answer('The devices', G.gatewayDevicesResponseSchema),
  },
  'GET /api/devices/:id': {
    summary: 'One device',
    responses: answer('The device', G.gatewayDeviceSchema),
  },
  'GET /api/devices/:id/series': {
    summary: "A device's value series (registers, telemetry)",
    query: z.object({ since: z.string().optional(), field: z.string().optional() }),
    responses: answer('The series', G.deviceSeriesResponseSchema),
  },
  'GET /api/devices/:id/events': {
    summary: "A device's recent events and local alerts",
    query: z.object({ limit: z.string().optional() }),
    responses: answer('Events and alerts', G.deviceEventsResponseSchema),
  },
  'GET /api/devices/:id/baseline': {
    summary: "A device's learned baseline and what changed since",
    responses: answer('The baseline', G.baselineSchema),
  },
  'GET /api/alerts': {
    summary: 'Local alerts, newest first',
    query: z.object({ device: z.string().optional(), limit: z.string().optional() }),
    responses: answer('The alerts', G.gatewayAlertsResponseSchema),
  },
  'GET /api/stream': {
    summary: 'Live server-sent events: status, device, alert',
    responses: { 200: { description: 'An SSE stream', contentType: 'text/event-stream' } },
  },
};
