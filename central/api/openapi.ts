/**
 * Central's OpenAPI route table (server-shared/openapi): each /api route with the zod schemas it
 * validates its query and body with (exported from the route files) and the schema of its answer
 * (protocols/api/central-schemas.ts). A route added without a line here is named by
 * tests/api/openapi.test.ts. Answers marked "loose" have no contract type yet: their known keys
 * are described and more are allowed.
 */
import { z } from 'zod';
import * as C from '../../protocols/api/central-schemas.ts';
import type { RouteDocs } from '../../server-shared/openapi/index.ts';
import { AUTH_ROUTE_DOCS } from '../../server-shared/openapi/auth-routes.ts';
import { SHARED_ROUTE_DOCS } from '../../server-shared/openapi/shared-routes.ts';
import { alertInputSchema } from '../alerts/types.ts';
import { commentSchema, listSchema, patchSchema as alertPatch, suppressionSchema } from './alerts.ts';
import { devicesQuery } from './enrich.ts';
import { querySchema as eventsQuery } from './events.ts';
import { tokenRequest } from './gateways.ts';
import { overviewQuery } from './overview.ts';
import { patchSchema as rulePatch, pushSchema, uploadSchema } from './rules.ts';
import { REPORTS_ROUTE_DOCS } from './reports.ts';
import { exportSchema, histogramSchema, topSchema } from './search.ts';

const loose = (shape: z.ZodRawShape = {}) => z.looseObject(shape);
const ok = (description: string, schema?: z.ZodType, status = 200) => ({ [status]: { description, schema } });

export const CENTRAL_ROUTE_DOCS: RouteDocs = {
  ...AUTH_ROUTE_DOCS,
  ...SHARED_ROUTE_DOCS,
  ...REPORTS_ROUTE_DOCS,
  'GET /api/events': {
    summary: 'Search events, newest first, a page at a time',
    query: eventsQuery,
    responses: ok('A page of events', C.eventsPageSchema),
  },
  'GET /api/events/histogram': {
    summary: 'Counts of the matching events per interval',
    query: histogramSchema,
    responses: ok('The histogram', C.histogramSchema),
  },
  'GET /api/events/top': {
    summary: 'The most frequent values of a field among the matching events',
    query: topSchema,
    responses: ok(
      'The values (loose)',
      loose({ from: z.string(), to: z.string(), field: z.string(), values: z.array(loose()) }),
    ),
  },
  'GET /api/events/export': {
    summary: 'Export the matching events as NDJSON or CSV (streamed)',
    query: exportSchema,
    responses: { 200: { description: 'The events', contentType: 'application/x-ndjson' } },
  },
  'POST /api/enrollment-tokens': {
    summary: 'Create a one-time enrollment token for a gateway',
    body: tokenRequest,
    responses: ok(
      'The token',
      z.object({ token: z.string(), gateway_id: z.string().nullable(), expires_at: z.string() }),
      201,
    ),
  },
  'GET /api/gateways': {
    summary: 'Enrolled gateways with their rule sets',
    responses: ok('The gateways', C.gatewaysResponseSchema),
  },
  'POST /api/gateways/:id/revoke': {
    summary: 'Revoke a gateway: its connections close and its key is refused',
    responses: ok('Revoked', z.object({ id: z.string(), status: z.literal('revoked') })),
  },
  'GET /api/rules': {
    summary: 'Managed Sigma rules',
    query: z.object({ target: z.enum(['edge', 'central']).optional() }),
    responses: ok('The rules', C.rulesResponseSchema),
  },
  'GET /api/rules/:id': {
    summary: 'One rule with its YAML',
    responses: ok('The rule', C.ruleSummarySchema.extend({ yaml: z.string() })),
  },
  'PATCH /api/rules/:id': {
    summary: 'Enable or disable a rule',
    body: rulePatch,
    responses: ok('The rule (loose)', loose({ id: z.string(), enabled: z.boolean() })),
  },
  'POST /api/rules': {
    summary: 'Upload Sigma rules (YAML body, or JSON)',
    body: uploadSchema,
    bodyContentTypes: ['application/yaml'],
    responses: ok('The stored rules', C.rulesResponseSchema, 201),
  },
  'POST /api/rules/push': {
    summary: 'Push the edge rule set to gateways',
    body: pushSchema,
    responses: ok('The pushed set (loose)', loose({ id: z.string(), version: z.string() })),
  },
  'POST /api/alerts': {
    summary: 'Raise an alert (an external detector)',
    body: alertInputSchema,
    responses: {
      200: { description: 'Grouped into an open alert (loose)', schema: loose({ outcome: z.string() }) },
      201: { description: 'Created (loose)', schema: loose({ outcome: z.string() }) },
    },
  },
  'GET /api/alerts': {
    summary: 'The alert queue, newest first',
    query: listSchema,
    responses: ok('A page of alerts', C.alertsPageSchema),
  },
  'GET /api/alerts/:id': {
    summary: 'One alert with comments and history',
    responses: ok('The alert', C.alertDetailSchema),
  },
  'PATCH /api/alerts/:id': {
    summary: 'Change status or assignee',
    body: alertPatch,
    responses: ok('The alert', C.alertDetailSchema),
  },
  'POST /api/alerts/:id/comments': {
    summary: 'Comment on an alert',
    body: commentSchema,
    responses: ok('The comment', C.alertCommentSchema, 201),
  },
  'GET /api/alerts/:id/related': {
    summary: 'Alerts on the same entity around this one',
    responses: ok('Related alerts (loose)', loose()),
  },
  'GET /api/alert-suppressions': {
    summary: 'Suppression windows',
    responses: ok('The suppressions (loose)', loose({ suppressions: z.array(loose()) })),
  },
  'POST /api/alert-suppressions': {
    summary: 'Suppress a rule or entity for a while',
    body: suppressionSchema,
    responses: ok('Created (loose)', loose(), 201),
  },
  'DELETE /api/alert-suppressions/:id': {
    summary: 'End a suppression',
    responses: { 204: { description: 'Removed' } },
  },
  'GET /api/stream': {
    summary: 'Live server-sent events: alert, stats',
    responses: { 200: { description: 'An SSE stream', contentType: 'text/event-stream' } },
  },
  'GET /api/overview': {
    summary: 'The dashboard overview over a range',
    query: overviewQuery,
    responses: ok('The overview', C.overviewSchema),
  },
  'GET /api/fleet': {
    summary: 'Gateways with link, lag and queue',
    responses: ok('The fleet', C.fleetSchema),
  },
  'GET /api/enrich/ip/:ip': {
    summary: 'GeoIP and threat-intel for an address',
    responses: ok('What is known (loose)', loose({ ip: z.string() })),
  },
  // Incidents and intel feeds (issue 21 asks 2-3, being built): described loosely until their answers get contract types.
  'GET /api/incidents': {
    summary: 'Incidents (alerts grouped by attacker)',
    responses: ok('Incidents (loose)', loose()),
  },
  'GET /api/incidents/:id': { summary: 'One incident', responses: ok('The incident (loose)', loose()) },
  'GET /api/incidents/:id/timeline': {
    summary: "An incident's timeline",
    responses: ok('The timeline (loose)', loose()),
  },
  'PATCH /api/incidents/:id': {
    summary: 'Change an incident',
    responses: ok('The incident (loose)', loose()),
  },
  'POST /api/incidents/:id/comments': {
    summary: 'Comment on an incident',
    responses: ok('The comment (loose)', loose(), 201),
  },
  'GET /api/intel/feeds': {
    summary: 'Threat-intel feed status',
    responses: ok('The feeds (loose)', loose()),
  },
  'GET /api/devices': {
    summary: 'Devices across gateways',
    query: devicesQuery,
    responses: ok('The devices', C.centralDevicesResponseSchema),
  },
};
