/**
 * The incident API (bearer token or session): `GET /api/incidents` lists them newest first,
 * `GET /api/incidents/:id` shows one with its child alerts, comments and history,
 * `GET /api/incidents/:id/timeline` its children and their triggering events in time order,
 * `PATCH /api/incidents/:id` changes status or assignee, `POST /api/incidents/:id/comments`
 * comments. Reading needs `read`, changing needs `alerts`, as for alerts; the actor of every
 * change is the caller's name, kept in the incident's history.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import { ALERT_STATUSES } from '../alerts/types.ts';
import type { Incidents } from '../incidents/index.ts';
import { MAX_INCIDENT_PAGE } from '../incidents/store.ts';
import './context.ts';
import { parseQuery } from './search-params.ts';
import { jsonBody } from './body.ts';

const idParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const listSchema = z.strictObject({
  status: z.enum(ALERT_STATUSES).optional(),
  attacker: z.string().min(1).max(256).optional(),
  assignee: z.string().min(1).max(128).optional(),
  before_id: idParam.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_INCIDENT_PAGE).default(100),
});
const patchSchema = z
  .strictObject({
    status: z.enum(ALERT_STATUSES).optional(),
    assignee: z.string().min(1).max(128).nullable().optional(),
  })
  .refine((b) => b.status !== undefined || b.assignee !== undefined, 'status or assignee is required');
const commentSchema = z.strictObject({ body: z.string().min(1).max(16_384) });

function id(text: string): number {
  const parsed = idParam.safeParse(text);
  if (!parsed.success)
    throw apiError(400, 'invalid_path', 'the incident id must be a positive integer', { field: 'id' });
  return parsed.data;
}

export function incidentsApi(incidents: Incidents) {
  const api = new Hono();
  const notFound = () => apiError(404, 'not_found', 'no such incident');

  api.get('/incidents', requirePermission('read'), async (c) => {
    const q = parseQuery(listSchema, c.req.query());
    return c.json(
      await incidents.store.list({
        status: q.status,
        attacker: q.attacker,
        assignee: q.assignee,
        beforeId: q.before_id,
        limit: q.limit,
      }),
    );
  });
  api.get('/incidents/:id', requirePermission('read'), async (c) => {
    const incident = await incidents.store.get(id(c.req.param('id')));
    if (!incident) throw notFound();
    return c.json(incident);
  });
  api.get('/incidents/:id/timeline', requirePermission('read'), async (c) => {
    const timeline = await incidents.store.timeline(id(c.req.param('id')));
    if (!timeline) throw notFound();
    return c.json({ timeline });
  });
  api.patch('/incidents/:id', requirePermission('alerts'), async (c) => {
    const changes = await jsonBody(c.req, patchSchema);
    const incident = await incidents.store.update(id(c.req.param('id')), changes, c.get('apiUser'));
    if (!incident) throw notFound();
    return c.json(incident);
  });
  api.post('/incidents/:id/comments', requirePermission('alerts'), async (c) => {
    const { body: text } = await jsonBody(c.req, commentSchema);
    const comment = await incidents.store.comment(id(c.req.param('id')), text, c.get('apiUser'));
    if (!comment) throw notFound();
    return c.json(comment, 201);
  });
  return api;
}
