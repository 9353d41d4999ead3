/**
 * The one way both servers answer an HTTP error (the shape is the contract's, protocols/api/
 * errors.ts: `{ error, code, field? }`). Handlers and middleware throw `apiError(...)` (or return
 * `refuse(c, ...)` where a middleware answers itself); `createErrorHandler` is each app's only
 * `onError`, and `notFound` its only 404. An error that is not an HttpError is a 500 whose
 * message goes to the log only: it may name files, addresses or internals (issue 15 item 14).
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import type { ApiError, ApiErrorCode } from '../protocols/api/errors.ts';

export type { ApiError, ApiErrorCode };

/** What an error answer may carry besides message, code and field. */
export type ApiErrorExtra = Omit<ApiError, 'error' | 'code' | 'field'>;

export interface ApiErrorOptions {
  /** The parameter or body path at fault. */
  field?: string;
  /** More keys of the answer (`problems`, `totp_required`, …). */
  extra?: ApiErrorExtra;
  /** Response headers (`retry-after`, …). */
  headers?: Record<string, string>;
}

/** A 401 tells the client how to authenticate (RFC 6750 §3). */
function challenge(status: number): Record<string, string> {
  return status === 401 ? { 'www-authenticate': 'Bearer' } : {};
}

/** A typed HTTP error: its status, code and message are what the client receives. */
export class HttpError extends HTTPException {
  readonly code: ApiErrorCode;
  readonly field: string | undefined;
  readonly extra: ApiErrorExtra | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: ContentfulStatusCode,
    code: ApiErrorCode,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(status, { message });
    this.code = code;
    this.field = options.field;
    this.extra = options.extra;
    this.headers = options.headers;
  }

  /**
   * The answer also where no handler of ours runs (a sub-app mounted on a bare Hono app, whose
   * default handler sends `getResponse()`): the same JSON shape.
   */
  override getResponse(): Response {
    return new Response(JSON.stringify(errorBody(this.code, this.message, this)), {
      status: this.status,
      headers: { 'content-type': 'application/json', ...challenge(this.status), ...this.headers },
    });
  }
}

/** The error to throw from a handler: `throw apiError(404, 'not_found', 'no such alert')`. */
export function apiError(
  status: ContentfulStatusCode,
  code: ApiErrorCode,
  message: string,
  options?: ApiErrorOptions,
): HttpError {
  return new HttpError(status, code, message, options);
}

/** The body of every error answer. */
export function errorBody(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}): ApiError {
  return {
    error: message,
    code,
    ...(options.field !== undefined && { field: options.field }),
    ...options.extra,
  };
}

/** Default code of an HTTPException thrown by Hono or a library (not by us). */
const STATUS_CODES: Partial<Record<number, ApiErrorCode>> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
};

/** Answers an error from a middleware that returns instead of throwing. */
export function refuse(
  c: Context,
  status: ContentfulStatusCode,
  code: ApiErrorCode,
  message: string,
  options: ApiErrorOptions = {},
): Response {
  return c.json(errorBody(code, message, options), status, { ...challenge(status), ...options.headers });
}

export interface ErrorHandlerOptions {
  /** Where a 500's detail goes (never to the client). */
  logger?: Pick<Logger, 'error'>;
  /** Counts a 500 (each server's error counter). */
  countInternal?: () => void;
  /** Turns a server's own error types into HttpErrors (e.g. central's InvalidQueryError → 400). */
  classify?: (error: Error) => HttpError | undefined;
}

/** The app's one `onError`. */
export function createErrorHandler(options: ErrorHandlerOptions = {}): ErrorHandler {
  return (error, c) => {
    const known = error instanceof HttpError ? error : options.classify?.(error);
    if (known) return refuse(c, known.status as ContentfulStatusCode, known.code, known.message, known);
    if (error instanceof HTTPException) {
      // Thrown by Hono or a library (bodyLimit's 413 has no message): its status, our shape.
      const code = STATUS_CODES[error.status] ?? (error.status >= 500 ? 'internal' : 'bad_request');
      return refuse(
        c,
        error.status as ContentfulStatusCode,
        code,
        error.message || code.replaceAll('_', ' '),
      );
    }
    options.countInternal?.();
    options.logger?.error({ err: error.message, path: c.req.path }, 'request failed');
    return refuse(c, 500, 'internal', 'internal error');
  };
}

/** The app's one 404 for a path no route serves. */
export const notFound: NotFoundHandler = (c) => refuse(c, 404, 'not_found', 'not found');
