/**
 * What every group of the access-control routes shares (routes.ts composes the groups): the
 * options they are built from, the audit writer and the caller's name, the JSON body parser that
 * throws the one `invalid_body` error, and the username and password rules.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { apiError } from '../http-errors.ts';
import type { LoginLimiter } from './limiter.ts';
import { clientAddress } from './middleware.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password.ts';
import type { SessionPolicy } from './session.ts';
import type { AuditInput, AuthStore } from './types.ts';

export interface AuthRoutesOptions {
  store: AuthStore;
  policy: SessionPolicy;
  cookieName: string;
  issuer: string;
  limiter: LoginLimiter;
  now: () => Date;
  onError?: (error: Error) => void;
}

/** The options plus the two helpers every handler uses. */
export interface AuthRoutesContext extends AuthRoutesOptions {
  /** Writes the handler's own audit entry (and marks the request audited). */
  audit(c: Context, entry: Omit<AuditInput, 'ts' | 'address'>): Promise<void>;
  /** The caller as the audit log names it. */
  actor(c: Context): string;
}

export function createAuthRoutesContext(options: AuthRoutesOptions): AuthRoutesContext {
  return {
    ...options,
    // A failed audit write (full disk) is reported, not turned into a failed login.
    audit: async (c, entry) => {
      c.set('audited', true);
      await options.store
        .appendAudit({ ...entry, ts: options.now(), address: clientAddress(c) })
        .catch((error: Error) => options.onError?.(error));
    },
    actor: (c) => c.get('auth')?.actor ?? '-',
  };
}

export const usernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits and . _ @ - (1–64)');
export const passwordSchema = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);

/** The request's JSON body checked against `schema`; a 400 `invalid_body` naming the field if not. */
export async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw apiError(400, 'invalid_body', 'the body must be JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || undefined;
    throw apiError(400, 'invalid_body', `${field ?? 'body'}: ${issue.message}`, { field });
  }
  return parsed.data;
}
