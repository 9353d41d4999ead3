/**
 * The dashboards' one HTTP client: JSON in and out, same-origin cookies, the CSRF header on every
 * state-changing request (server-shared/web-auth/SPEC.md §2 "CSRF"), and a 401 turned into "show the
 * login form" through `onUnauthorized` listeners, so no page has to handle a lapsed session.
 */

/** An API answer other than 2xx, with the server's `{error}` message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

let csrfToken = '';
const unauthorizedListeners = new Set<() => void>();

/** Stores the session's CSRF token (from login or /api/auth/me). */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Registers a callback run when any request answers 401; returns the unregister function. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Send the body as it is (e.g. YAML text) with this content type instead of JSON. */
  contentType?: string;
  /** Leave 401 to the caller (the login form itself). */
  quiet401?: boolean;
  signal?: AbortSignal;
}

/** Builds `path?key=value…` from the defined, non-empty entries of `params`. */
export function withQuery(path: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

/** Calls the API and returns the parsed JSON body (undefined for 204); throws ApiError otherwise. */
export async function api<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    body = options.contentType ? String(options.body) : JSON.stringify(options.body);
  }
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    body,
    credentials: 'same-origin',
    signal: options.signal,
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { error: text.slice(0, 200) };
  }
  if (!res.ok) {
    const obj = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
    if (res.status === 401 && !options.quiet401) for (const l of unauthorizedListeners) l();
    throw new ApiError(res.status, typeof obj.error === 'string' ? obj.error : `HTTP ${res.status}`, obj);
  }
  return parsed as T;
}
