/**
 * Reading a JSON request body against a zod schema, for every route that takes one: anything
 * that is not JSON, or not of the schema, is a 400 naming the first offending path.
 */
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';

export async function jsonBody<T>(req: { json(): Promise<unknown> }, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    throw new HTTPException(400, { message: 'the body must be JSON' });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HTTPException(400, { message: `${issue?.path.join('.') || 'body'}: ${issue?.message}` });
  }
  return parsed.data;
}
