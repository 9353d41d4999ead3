/**
 * Central's OpenAPI route table (server-shared/openapi): each /api route with the zod schemas it
 * validates its query and body with (exported from the route files) and the schema of its answer
 * (protocols/api/central-schemas.ts). A route added without a line here is named by
 * tests/api/openapi.test.ts. Answers marked "loose" have no contract type yet: their known keys
 * are described and more are allowed.
 */
import { z } from 'zod';
import * as C from '../../protocols/api/central-schemas.ts';
import { answer, type RouteDocs } from '../../server-shared/openapi/index.ts';
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
import { auditQuery as playbookAuditQuery, playbookBody, rejectSchema, runsQuery } from './playbooks.ts';
import { exportSchema, histogramSchema, topSchema } from './search.ts';

const loose = (shape: z.ZodRawShape = {}) => z.looseObject(shape);

const playbookOut = playbookBody.extend({
  created_at: z.string(),
  created_by: z.string(),
  updated_at: z.string(),
  updated_by: z.string(),
});
const actionOut = z.object({
  id: z.number().int(),
  run_id: z.number().int(),
  idx: z.number().int(),
  type: z.string(),
  params: loose(),
  gateway: z.string().nullable(),
  status: z.string(),
  error: z.string().nullable(),
  undo: loose().nullable(),
  executed_at: z.string().nullable(),
  undone_at: z.string().nullable(),
  undone_by: z.string().nullable(),
});
const runOut = z.object({
  id: z.number().int(),
  playbook_id: z.string(),
  playbook_name: z.string(),
  trigger: z.enum(['central', 'gateway']),
  alert_id: z.number().int().nullable(),
  gateway: z.string().nullable(),
  gateway_alert: z.string().nullable(),
  rule_id: z.string().nullable(),
  status: z.enum(['pending', 'rejected', 'running', 'done', 'failed']),
  decided_by: z.string().nullable(),
  decided_at: z.string().nullable(),
  reason: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  actions: z.array(actionOut),
});
const auditOut = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  playbook_id: z.string().nullable(),
  run_id: z.number().int().nullable(),
  action_id: z.number().int().nullable(),
  what: z.string(),
  outcome: z.string(),
  detail: loose().nullable(),
});

export const CENTRAL_ROUTE_DOCS: RouteDocs = {
  ...AUTH_ROUTE_DOCS,
  ...SHARED_ROUTE_DOCS,
  ...REPORTS_ROUTE_DOCS,
  'GET /api/events': {
    summary: 'Search events, newest first, a page at a time',
    query: eventsQuery,
    responses: answer('A page of events', C.eventsPageSchema),
  },
  'GET /api/events/histogram': {
    summary: 'Counts of the matching events per interval',
    query: histogramSchema,
    responses: answer('The histogram', C.histogramSchema),
  },
  'GET /api/events/top': {
    summary: 'The most frequent values of a field among the matching events',
    query: topSchema,
    responses: answer(
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
    responses: answer(
      'The token',
      z.object({ token: z.string(), gateway_id: z.string().nullable(), expires_at: z.string() }),
      201,
    ),
  },
  'GET /api/gateways': {
    summary: 'Enrolled gateways with their rule sets',
    responses: answer('The gateways', C.gatewaysResponseSchema),
  },
  'POST /api/gateways/:id/revoke': {
    summary: 'Revoke a gateway: its connections close and its key is refused',
    responses: answer('Revoked', z.object({ id: z.string(), status: z.literal('revoked') })),
  },
  'GET /api/rules': {
    summary: 'Managed Sigma rules',
    query: z.object({ target: z.enum(['edge', 'central']).optional() }),
    responses: answer('The rules', C.rulesResponseSchema),
  },
  'GET /api/rules/:id': {
    summary: 'One rule with its YAML',
    responses: answer('The rule', C.ruleSummarySchema.extend({ yaml: z.string() })),
  },
  'PATCH /api/rules/:id': {
    summary: 'Enable or disable a rule',
    body: rulePatch,
    responses: answer('The rule (loose)', loose({ id: z.string(), enabled: z.boolean() })),
  },
  'POST /api/rules': {
    summary: 'Upload Sigma rules (YAML body, or JSON)',
    body: uploadSchema,
    bodyContentTypes: ['application/yaml'],
    responses: answer('The stored rules', C.rulesResponseSchema, 201),
  },
  'POST /api/rules/push': {
    summary: 'Push the edge rule set to gateways',
    body: pushSchema,
    responses: answer('The pushed set (loose)', loose({ id: z.string(), version: z.string() })),
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
    responses: answer('A page of alerts', C.alertsPageSchema),
  },
  'GET /api/alerts/:id': {
    summary: 'One alert with comments and history',
    responses: answer('The alert', C.alertDetailSchema),
  },
  'PATCH /api/alerts/:id': {
    summary: 'Change status or assignee',
    body: alertPatch,
    responses: answer('The alert', C.alertDetailSchema),
  },
  'POST /api/alerts/:id/comments': {
    summary: 'Comment on an alert',
    body: commentSchema,
    responses: answer('The comment', C.alertCommentSchema, 201),
  },
  'GET /api/alerts/:id/related': {
    summary: 'Alerts on the same entity around this one',
    responses: answer('Related alerts (loose)', loose()),
  },
  'GET /api/alert-suppressions': {
    summary: 'Suppression windows',
    responses: answer('The suppressions (loose)', loose({ suppressions: z.array(loose()) })),
  },
  'POST /api/alert-suppressions': {
    summary: 'Suppress a rule or entity for a while',
    body: suppressionSchema,
    responses: answer('Created (loose)', loose(), 201),
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
    responses: answer('The overview', C.overviewSchema),
  },
  'GET /api/fleet': {
    summary: 'Gateways with link, lag and queue',
    responses: answer('The fleet', C.fleetSchema),
  },
  'GET /api/enrich/ip/:ip': {
    summary: 'GeoIP and threat-intel for an address',
    responses: answer('What is known (loose)', loose({ ip: z.string() })),
  },
  // Incidents and intel feeds (issue 21 asks 2-3, being built): described loosely until their answers get contract types.
  'GET /api/incidents': {
    summary: 'Incidents (alerts grouped by attacker)',
    responses: answer('Incidents (loose)', loose()),
  },
  'GET /api/incidents/:id': { summary: 'One incident', responses: answer('The incident (loose)', loose()) },
  'GET /api/incidents/:id/timeline': {
    summary: "An incident's timeline",
    responses: answer('The timeline (loose)', loose()),
  },
  'PATCH /api/incidents/:id': {
    summary: 'Change an incident',
    responses: answer('The incident (loose)', loose()),
  },
  'POST /api/incidents/:id/comments': {
    summary: 'Comment on an incident',
    responses: answer('The comment (loose)', loose(), 201),
  },
  'GET /api/intel/feeds': {
    summary: 'Threat-intel feed status',
    responses: answer('The feeds (loose)', loose()),
  },
  // Response playbooks (issue 21 ask 4, central/api/playbooks.ts).
  'GET /api/playbooks': {
    summary: 'Response playbooks',
    responses: answer('The playbooks', z.object({ playbooks: z.array(playbookOut) })),
  },
  'POST /api/playbooks': {
    summary: 'Create a playbook (permission playbooks); the gateways get their new set',
    body: playbookBody,
    responses: answer('The playbook', playbookOut, 201),
  },
  'GET /api/playbooks/:id': { summary: 'One playbook', responses: answer('The playbook', playbookOut) },
  'PUT /api/playbooks/:id': {
    summary: 'Replace a playbook (permission playbooks)',
    body: playbookBody,
    responses: answer('The playbook', playbookOut),
  },
  'DELETE /api/playbooks/:id': {
    summary: 'Delete a playbook (permission playbooks); its runs stay',
    responses: { 204: { description: 'Deleted' } },
  },
  'POST /api/playbook-push': {
    summary: 'Push each active gateway its playbook set now (link SPEC §9.2)',
    responses: answer(
      'Per gateway, the version and whether it was connected',
      z.object({ gateways: z.array(z.object({ id: z.string(), version: z.string(), sent: z.boolean() })) }),
      202,
    ),
  },
  'GET /api/playbook-gateways': {
    summary: 'Per gateway, the playbook set assigned and the one it reports running',
    responses: answer(
      'The gateways',
      z.object({
        gateways: z.array(
          z.object({
            gateway: z.string(),
            assigned_version: z.string(),
            running_version: z.string().nullable(),
            ok: z.boolean().nullable(),
            error: z.string().nullable(),
            reported_at: z.string().nullable(),
          }),
        ),
      }),
    ),
  },
  'GET /api/playbook-runs': {
    summary: 'Playbook runs, newest first, each with its actions and their outcome',
    query: runsQuery,
    responses: answer('The runs', z.object({ runs: z.array(runOut) })),
  },
  'GET /api/playbook-runs/:id': {
    summary: 'One run with its actions and its audit trail',
    responses: answer('The run', runOut.extend({ audit: z.array(auditOut) })),
  },
  'POST /api/playbook-runs/:id/approve': {
    summary: 'Approve a pending run (permission alerts): its actions are carried out',
    responses: answer('The run', runOut),
  },
  'POST /api/playbook-runs/:id/reject': {
    summary: 'Reject a pending run (permission alerts): nothing is done',
    body: rejectSchema,
    responses: answer('The run', runOut),
  },
  'POST /api/playbook-actions/:id/undo': {
    summary: 'Undo an action (permission alerts): unblock, re-enable, restore',
    responses: answer('The action', actionOut),
  },
  'GET /api/playbook-audit': {
    summary: 'The playbook audit trail, newest first',
    query: playbookAuditQuery,
    responses: answer('The entries', z.object({ audit: z.array(auditOut) })),
  },
  'GET /api/devices': {
    summary: 'Devices across gateways',
    query: devicesQuery,
    responses: answer('The devices', C.centralDevicesResponseSchema),
  },
};
