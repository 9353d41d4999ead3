/**
 * One guard in front of every `/api` route: a NUL character (U+0000) in a query parameter's
 * name or value, or in the decoded path, is refused with a 400 naming the parameter. PostgreSQL
 * text cannot hold NUL (SQLSTATE 22021), so such a filter would otherwise reach the database and
 * come back as a 500; no route has a use for it. Checking here, once, covers every search and
 * list route (events, alerts, devices, audit, rules, …) including the ones defined outside
 * central/api, and any parameter a route adds later.
 */
import type { MiddlewareHandler } from 'hono';
import { apiError } from '../../server-shared/http-errors.ts';

/** Readable name of a parameter in an error message: bounded, NUL shown as `\0`. */
function shown(name: string): string {
  const text = name.replaceAll('\u0000', '\\0');
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

export const refuseNulInRequest: MiddlewareHandler = async (c, next) => {
  if (c.req.path.includes('\u0000')) {
    throw apiError(400, 'invalid_path', 'invalid path: it contains a NUL character');
  }
  const query = c.req.queries();
  for (const [name, values] of Object.entries(query)) {
    if (name.includes('\u0000') || values.some((v) => v.includes('\u0000'))) {
      const field = shown(name);
      throw apiError(400, 'invalid_query', `invalid query parameter ${field}: it contains a NUL character`, {
        field,
      });
    }
  }
  await next();
};
