/**
 * `GET /api/events`: search stored events by time range, source, host, severity, gateway, device,
 * action and text, newest first, with keyset pagination (`next_cursor`). Query parameters are validated;
 * a bad one is a 400 naming the parameter.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type * as Api from '../../protocols/api/central.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type { EventStore } from '../store/types.ts';
import { filterShape, parseQuery, toFilter } from './search-params.ts';

export const querySchema = z.strictObject({
  ...filterShape,
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(512).optional(),
});

export function eventsApi(store: EventStore) {
  const api = new Hono();
  api.get('/', requirePermission('read'), async (c) => {
    const q = parseQuery(querySchema, c.req.query());
    const page = await store.queryEvents({ ...toFilter(q), limit: q.limit, cursor: q.cursor });
    return c.json({ events: page.events, next_cursor: page.nextCursor } satisfies Api.EventsPage);
  });
  return api;
}
