/**
 * Reading a JSON request body against a zod schema, for every route that takes one: anything
 * that is not JSON, or not of the schema, is a 400 naming the first offending path.
 */
import type { z } from 'zod';
import { apiError } from '../../server-shared/http-errors.ts';

export async function jsonBody<T>(req: { json(): Promise<unknown> }, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    throw apiError(400, 'invalid_body', 'the body must be JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || undefined;
    throw apiError(400, 'invalid_body', `${field ?? 'body'}: ${issue?.message}`, { field });
  }
  return parsed.data;
}
