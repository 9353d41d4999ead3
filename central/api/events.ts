/**
 * `GET /api/events`: search stored events by time range, source, host, severity, gateway and
 * text, newest first, with keyset pagination (`next_cursor`). Query parameters are validated;
 * a bad one is a 400 naming the parameter.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { EVENT_SOURCES } from '../../protocols/event/schema.ts';
import type { EventStore } from '../store/types.ts';

/** An ISO 8601 time or milliseconds since the epoch. */
const time = z
  .string()
  .transform((s, ctx) => {
    const date = /^\d+$/.test(s) ? new Date(Number(s)) : new Date(s);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 time or epoch milliseconds' });
      return z.NEVER;
    }
    return date;
  })
  .optional();

const querySchema = z.strictObject({
  from: time,
  to: time,
  source: z.enum(EVENT_SOURCES).optional(),
  host: z.string().min(1).max(255).optional(),
  severity_max: z.coerce.number().int().min(0).max(7).optional(),
  q: z.string().min(1).max(256).optional(),
  gateway: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(512).optional(),
});

export function eventsApi(store: EventStore) {
  const api = new Hono();
  api.get('/', async (c) => {
    const parsed = querySchema.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const name = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue?.path.join('.');
      throw new HTTPException(400, { message: `invalid query parameter ${name}: ${issue?.message}` });
    }
    const q = parsed.data;
    const page = await store.queryEvents({
      from: q.from,
      to: q.to,
      source: q.source,
      host: q.host,
      severityMax: q.severity_max,
      text: q.q,
      gateway: q.gateway,
      limit: q.limit,
      cursor: q.cursor,
    });
    return c.json({ events: page.events, next_cursor: page.nextCursor });
  });
  return api;
}
