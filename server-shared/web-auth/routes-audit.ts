/**
 * The audit log (admin only, SPEC.md §2): `GET /audit`, newest first, filtered by actor and
 * action, paged with `before` (the last entry's id) and `limit` (at most 1000).
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type * as Api from '../../protocols/api/auth.ts';
import { refuse } from '../http-errors.ts';
import { requirePermission } from './permissions.ts';
import type { AuthRoutesContext } from './routes-context.ts';

export const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
  actor: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(128).optional(),
});

export function routeAudit(api: Hono, ctx: AuthRoutesContext): void {
  const { store } = ctx;

  api.get('/audit', requirePermission('admin'), async (c) => {
    const parsed = auditQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
      return refuse(c, 400, 'invalid_query', issue.message, { field: field || undefined });
    }
    const entries = await store.listAudit(parsed.data);
    return c.json({
      entries: entries.map((e) => ({ ...e, ts: e.ts.toISOString() })),
      next_before: entries.length === parsed.data.limit ? entries.at(-1)!.id : null,
    } satisfies Api.AuditPage);
  });
}
