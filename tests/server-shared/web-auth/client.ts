/**
 * A small HTTP client for the access-control tests: JSON requests with an optional session cookie,
 * CSRF token, bearer token or extra headers, and login that returns the session cookie as the
 * server set it (value and raw `set-cookie`).
 */
export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: string };
}

export interface CallOptions {
  cookie?: string;
  csrf?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export function createClient(base: string, cookieName: string) {
  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    if (o.cookie) headers.cookie = `${cookieName}=${o.cookie}`;
    if (o.csrf) headers['x-csrf-token'] = o.csrf;
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(o.body !== undefined && { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
  };
  const login = async (username: string, password: string, totp?: string, presented?: string) => {
    const reply = await call('POST', '/api/auth/login', {
      body: { username, password, ...(totp && { totp }) },
      cookie: presented,
    });
    const setCookie = reply.headers.get('set-cookie') ?? '';
    const match = new RegExp(`${cookieName}=([^;]*)`).exec(setCookie);
    return {
      ...reply,
      setCookie,
      cookie: match?.[1] ?? '',
      csrf: (reply.body.csrf_token as string | undefined) ?? '',
    };
  };
  /** Logs in and returns a session that sends its cookie and CSRF token with every call. */
  const session = async (username: string, password: string, totp?: string) => {
    const l = await login(username, password, totp);
    if (l.status !== 200) throw new Error(`login ${username}: ${l.status} ${JSON.stringify(l.body)}`);
    return {
      cookie: l.cookie,
      csrf: l.csrf,
      call: (method: string, path: string, o: CallOptions = {}) =>
        call(method, path, { cookie: l.cookie, csrf: l.csrf, ...o }),
    };
  };
  return { call, login, session };
}
