/**
 * The playbooks API (issue 21 ask 4; permissions per server-shared/web-auth/SPEC.md): `read` lists
 * playbooks, runs, the audit trail and what each gateway runs; `playbooks` (admins) creates,
 * replaces, deletes and pushes them; `alerts` (analysts) approves or rejects a pending run and
 * undoes an action. Every change is in the playbook audit trail with its actor.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { playbookSchema } from '../../protocols/playbook/schema.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import { type Playbooks, PlaybookError } from '../playbooks/index.ts';
import { jsonBody } from './body.ts';
import './context.ts';

export const playbookBody = playbookSchema;
export const rejectSchema = z.strictObject({ reason: z.string().max(1000).optional() });
export const runsQuery = z.strictObject({
  status: z.enum(['pending', 'rejected', 'running', 'done', 'failed']).optional(),
  playbook: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});
export const auditQuery = z.strictObject({
  run: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional(),
});

/** Actions whose undo gives an account its access back. */
const ACCOUNT_ACTIONS = new Set(['disable_user', 'disable_token']);

const idParam = (raw: string) => {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw apiError(404, 'not_found', 'no such id');
  return n;
};

const query = <T>(schema: z.ZodType<T>, raw: Record<string, string>): T => {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || undefined;
    throw apiError(400, 'invalid_query', `${field ?? 'query'}: ${issue?.message}`, { field });
  }
  return parsed.data;
};

/** A refusal of the playbook service as an API error. */
const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof PlaybookError)
      throw apiError(
        error.status,
        error.status === 404 ? 'not_found' : error.status === 409 ? 'conflict' : 'invalid_body',
        error.message,
      );
    throw error;
  }
};

export function playbooksApi(playbooks: Playbooks) {
  const api = new Hono();

  api.get('/playbooks', requirePermission('read'), async (c) =>
    c.json({ playbooks: await playbooks.list() }),
  );

  api.post('/playbooks', requirePermission('playbooks'), async (c) => {
    const body = await jsonBody(c.req, playbookBody);
    return c.json(await wrap(() => playbooks.put(body, c.get('apiUser'), true)), 201);
  });

  api.get('/playbooks/:id', requirePermission('read'), async (c) => {
    const found = await playbooks.store.get(c.req.param('id'));
    if (!found) throw apiError(404, 'not_found', 'no such playbook');
    return c.json(found);
  });

  api.put('/playbooks/:id', requirePermission('playbooks'), async (c) => {
    const body = await jsonBody(c.req, playbookBody);
    if (body.id !== c.req.param('id'))
      throw apiError(400, 'invalid_body', 'id: must be the id in the path', { field: 'id' });
    return c.json(await wrap(() => playbooks.put(body, c.get('apiUser'), false)));
  });

  api.delete('/playbooks/:id', requirePermission('playbooks'), async (c) => {
    await wrap(() => playbooks.remove(c.req.param('id'), c.get('apiUser')));
    return c.body(null, 204);
  });

  api.post('/playbook-push', requirePermission('playbooks'), async (c) =>
    c.json({ gateways: await playbooks.push(c.get('apiUser')) }, 202),
  );

  api.get('/playbook-gateways', requirePermission('read'), async (c) =>
    c.json({ gateways: await playbooks.gatewayStates() }),
  );

  api.get('/playbook-runs', requirePermission('read'), async (c) => {
    const q = query(runsQuery, c.req.query());
    return c.json({ runs: await playbooks.store.listRuns(q) });
  });

  api.get('/playbook-runs/:id', requirePermission('read'), async (c) => {
    const id = idParam(c.req.param('id'));
    const run = await playbooks.store.getRun(id);
    if (!run) throw apiError(404, 'not_found', 'no such run');
    return c.json({ ...run, audit: await playbooks.store.auditOf({ runId: id, limit: 500 }) });
  });

  api.post('/playbook-runs/:id/approve', requirePermission('alerts'), async (c) => {
    const id = idParam(c.req.param('id'));
    return c.json(await wrap(() => playbooks.approve(id, c.get('apiUser'))));
  });

  api.post('/playbook-runs/:id/reject', requirePermission('alerts'), async (c) => {
    const id = idParam(c.req.param('id'));
    const body = await jsonBody(c.req, rejectSchema);
    return c.json(await wrap(() => playbooks.reject(id, c.get('apiUser'), body.reason ?? null)));
  });

  api.post('/playbook-actions/:id/undo', requirePermission('alerts'), async (c) => {
    const id = idParam(c.req.param('id'));
    // Re-enabling a user or an API token gives access back: only those who manage accounts
    // (admin) may, whoever's playbook disabled it. Analysts undo the other actions.
    const action = await playbooks.store.getAction(id);
    if (action && ACCOUNT_ACTIONS.has(action.type) && !c.get('auth')?.permissions.has('admin'))
      throw apiError(
        403,
        'forbidden',
        `undoing ${action.type} gives access back: it needs the admin permission`,
      );
    return c.json(await wrap(() => playbooks.undo(id, c.get('apiUser'))));
  });

  api.get('/playbook-audit', requirePermission('read'), async (c) => {
    const q = query(auditQuery, c.req.query());
    return c.json({
      audit: await playbooks.store.auditOf({ runId: q.run, limit: q.limit, before: q.before }),
    });
  });

  return api;
}
