/**
 * The alert API (bearer token): `POST /api/alerts` raises one (for integrations and tests; the
 * detection engine calls `raiseAlert` directly), `GET /api/alerts` lists the queue,
 * (filtered by status, severity, entity, rule, assignee, and by tag: `tag=` or a `q=` of
 * enrichment terms such as `q=geo.country:RU intel.feed:c2`, all of which must hold),
 * `GET /api/alerts/:id` shows one with its comments and history, `PATCH /api/alerts/:id` changes
 * status or assignee, `POST /api/alerts/:id/comments` comments, `GET /api/alerts/:id/related`
 * finds events and alerts on the same entity, and `/api/alert-suppressions` manages suppression
 * windows. The actor of every change is the API token's name.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type * as Api from '../../protocols/api/central.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import type { Alerts } from '../alerts/index.ts';
import { MAX_ALERT_PAGE } from '../alerts/alert-store.ts';
import { ALERT_STATUSES, alertInputSchema } from '../alerts/types.ts';
import './context.ts';
import { enrichmentTerm, parseQuery } from './search-params.ts';
import { jsonBody } from './body.ts';

const idParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const MAX_SUPPRESSION_SECS = 366 * 86_400;

export const listSchema = z.strictObject({
  status: z.enum(ALERT_STATUSES).optional(),
  severity_max: z.coerce.number().int().min(0).max(7).optional(),
  entity: z.string().min(1).max(256).optional(),
  rule_id: z.string().min(1).max(128).optional(),
  assignee: z.string().min(1).max(128).optional(),
  tag: z.string().min(1).max(128).optional().describe('Alerts carrying this tag'),
  q: z
    .string()
    .max(1024)
    .regex(
      /^\s*(?:(?:geo|intel|asset)\.[a-z_]+:\S{1,120}\s*){0,8}$/,
      'space-separated enrichment terms (geo.country:RU, geo.asn:AS64500, intel.feed:c2, asset.site:north)',
    )
    .optional(),
  before_id: idParam.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ALERT_PAGE).default(100),
});
export const patchSchema = z
  .strictObject({
    status: z.enum(ALERT_STATUSES).optional(),
    assignee: z.string().min(1).max(128).nullable().optional(),
  })
  .refine((b) => b.status !== undefined || b.assignee !== undefined, 'status or assignee is required');
export const commentSchema = z.strictObject({ body: z.string().min(1).max(16_384) });
export const suppressionSchema = z
  .strictObject({
    rule_id: z.string().min(1).max(128).optional(),
    entity: z.string().min(1).max(256).optional(),
    starts_at: z.iso.datetime({ offset: true }).optional(),
    duration_secs: z.number().int().positive().max(MAX_SUPPRESSION_SECS),
    reason: z.string().min(1).max(1024),
  })
  .refine((s) => s.rule_id !== undefined || s.entity !== undefined, 'rule_id or entity is required');

function id(text: string): number {
  const parsed = idParam.safeParse(text);
  if (!parsed.success)
    throw apiError(400, 'invalid_path', 'the alert id must be a positive integer', { field: 'id' });
  return parsed.data;
}

export function alertsApi(alerts: Alerts, options: { relatedMarginSecs: number }, now = () => new Date()) {
  const api = new Hono();
  const notFound = () => apiError(404, 'not_found', 'no such alert');

  api.post('/alerts', requirePermission('alerts'), async (c) => {
    const input = await jsonBody(c.req, alertInputSchema);
    const result = await alerts.raise(input, c.get('apiUser'));
    return c.json(result, result.outcome === 'created' ? 201 : 200);
  });
  api.get('/alerts', requirePermission('read'), async (c) => {
    const q = parseQuery(listSchema, c.req.query());
    const page: Api.AlertsPage = await alerts.store.list({
      status: q.status,
      severityMax: q.severity_max,
      entity: q.entity,
      ruleId: q.rule_id,
      assignee: q.assignee,
      tags: [...(q.tag ? [q.tag] : []), ...(q.q?.split(/\s+/).filter(Boolean).map(enrichmentTerm) ?? [])],
      beforeId: q.before_id,
      limit: q.limit,
    });
    return c.json(page);
  });
  api.get('/alerts/:id', requirePermission('read'), async (c) => {
    const alert = await alerts.store.get(id(c.req.param('id')));
    if (!alert) throw notFound();
    return c.json(alert satisfies Api.AlertDetail);
  });
  api.patch('/alerts/:id', requirePermission('alerts'), async (c) => {
    const changes = await jsonBody(c.req, patchSchema);
    const alert = await alerts.store.update(id(c.req.param('id')), changes, c.get('apiUser'));
    if (!alert) throw notFound();
    return c.json(alert satisfies Api.AlertDetail);
  });
  api.post('/alerts/:id/comments', requirePermission('alerts'), async (c) => {
    const { body: text } = await jsonBody(c.req, commentSchema);
    const comment = await alerts.store.comment(id(c.req.param('id')), text, c.get('apiUser'));
    if (!comment) throw notFound();
    return c.json(comment, 201);
  });
  api.get('/alerts/:id/related', requirePermission('read'), async (c) => {
    const related = await alerts.store.related(id(c.req.param('id')), {
      marginMs: options.relatedMarginSecs * 1000,
      limit: 100,
    });
    if (!related) throw notFound();
    return c.json(related);
  });

  api.get('/alert-suppressions', requirePermission('read'), async (c) =>
    c.json({ suppressions: await alerts.store.suppressions() }),
  );
  api.post('/alert-suppressions', requirePermission('alerts'), async (c) => {
    const s = await jsonBody(c.req, suppressionSchema);
    const startsAt = s.starts_at ? new Date(s.starts_at) : now();
    const created = await alerts.store.suppress(
      {
        ruleId: s.rule_id,
        entity: s.entity,
        startsAt,
        endsAt: new Date(startsAt.getTime() + s.duration_secs * 1000),
        reason: s.reason,
      },
      c.get('apiUser'),
    );
    return c.json(created, 201);
  });
  api.delete('/alert-suppressions/:id', requirePermission('alerts'), async (c) => {
    if (!(await alerts.store.unsuppress(id(c.req.param('id'))))) {
      throw apiError(404, 'not_found', 'no such suppression');
    }
    return c.body(null, 204);
  });
  return api;
}
