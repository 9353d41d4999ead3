/**
 * Every HTTP error of both servers has the one shape of protocols/api/errors.ts:
 * `{ error: "<message>", code: "<snake_case_code>", field?: "<param>" }` (and only the few extra
 * keys the contract names). Drives error paths in-process, as the servers' factories build them:
 * on central (buildCentral over PGlite) a 404, a 400 naming a query parameter, a 400 naming a
 * body path, a 401 for a bad token, a 403 from the /metrics allow-list, a 413, a 429 from the
 * live-stream cap, a refused rule upload with its problems, and a 500 whose detail stays in the
 * log; on the gateway (createGatewayHttp) a 404, a 401, a 415 and a 400 naming a login field
 * from the shared web-auth routes, and a 500; and a thrown apiError under a bare Hono app.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { buildCentral } from '../../central/index.ts';
import { createLogger } from '../../central/log.ts';
import { createCentralMetrics } from '../../central/metrics.ts';
import { createPgliteStore, type EventStore } from '../../central/store/index.ts';
import { openFileAuthStore } from '../../gateway/auth/file-store.ts';
import { createGatewayHttp, type GatewayStatus } from '../../gateway/http/index.ts';
import { Inventory } from '../../gateway/inventory/index.ts';
import { createGatewayMetrics } from '../../gateway/metrics.ts';
import type { ApiError } from '../../protocols/api/errors.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import { createWebAuth, webAuthConfigSchema } from '../../server-shared/web-auth/index.ts';

const TOKEN = 'http-errors-token-0123456789';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const ALLOWED_KEYS = new Set([
  'error',
  'code',
  'field',
  'totp_required',
  'problems',
  'totp_enrollment_required',
]);

/** Asserts the answer is an error of the one shape, and returns its body. */
async function errorOf(res: Response, status: number, code: string, field?: string): Promise<ApiError> {
  assert.equal(res.status, status, `status of ${res.url || 'the request'}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as ApiError;
  assert.equal(typeof body.error, 'string');
  assert.ok(body.error.length > 0, 'a message for a person');
  assert.equal(body.code, code);
  assert.match(body.code, /^[a-z]+(_[a-z]+)*$/, 'snake_case code');
  assert.equal(body.field, field);
  for (const key of Object.keys(body)) assert.ok(ALLOWED_KEYS.has(key), `unexpected key ${key}`);
  return body;
}

describe('HTTP errors on central', () => {
  let store: EventStore;
  let central: Awaited<ReturnType<typeof buildCentral>>;
  const logged: string[] = [];
  const request = (p: string, init: RequestInit = {}) =>
    central.app.request(p, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
    });

  before(async () => {
    store = await createPgliteStore();
    await store.init(new Date());
    const logger = createLogger('silent');
    logger.error = ((obj: { err?: string }) => {
      logged.push(String(obj.err));
    }) as typeof logger.error;
    central = await buildCentral(
      centralConfigSchema.parse({
        storage: { type: 'pglite' },
        http: { metrics: { allow: ['192.0.2.0/24'] } },
        api: { stream: { max_streams_per_user: 1 } },
      }),
      store,
      {
        metrics: createCentralMetrics({ processMetrics: false }),
        logger,
        apiTokens: [{ name: 'errors', token_sha256: sha256(TOKEN) }],
      },
    );
  });
  after(async () => {
    await central?.stop();
    await store?.close().catch(() => undefined); // closed already by the 500 case
  });

  it('404: an unknown route and an unknown alert', async () => {
    await errorOf(await request('/api/no-such-route'), 404, 'not_found');
    await errorOf(await request('/api/alerts/424242'), 404, 'not_found');
  });

  it('400 naming the query parameter, the body path, the path parameter', async () => {
    await errorOf(await request('/api/events?limit=0'), 400, 'invalid_query', 'limit');
    await errorOf(await request('/api/events?colour=red'), 400, 'invalid_query', 'colour');
    await errorOf(
      await request('/api/alerts/1', { method: 'PATCH', body: JSON.stringify({ status: 'closed' }) }),
      400,
      'invalid_body',
      'status',
    );
    await errorOf(await request('/api/alerts', { method: 'POST', body: '{not json' }), 400, 'invalid_body');
    await errorOf(await request('/api/alerts/x'), 400, 'invalid_path', 'id');
  });

  it('401: a bad token and no credentials, with a Bearer challenge', async () => {
    const bad = await central.app.request('/api/alerts', { headers: { authorization: 'Bearer nope-nope' } });
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer');
    await errorOf(bad, 401, 'invalid_token');
    await errorOf(await central.app.request('/api/alerts'), 401, 'unauthenticated');
  });

  it('403: /metrics from an address outside its allow-list', async () => {
    await errorOf(await central.app.request('/metrics'), 403, 'forbidden');
  });

  it('413: a body over the limit', async () => {
    const big = JSON.stringify({ body: 'x'.repeat(1024 * 1024 + 1) });
    await errorOf(
      await request('/api/alerts/1/comments', { method: 'POST', body: big }),
      413,
      'payload_too_large',
    );
  });

  it('429: one live stream too many, with retry-after', async () => {
    const open = await request('/api/stream');
    assert.equal(open.status, 200);
    try {
      const refused = await request('/api/stream');
      assert.equal(refused.headers.get('retry-after'), '10');
      await errorOf(refused, 429, 'too_many_requests');
    } finally {
      await open.body?.cancel();
    }
  });

  it('a refused rule upload lists its problems', async () => {
    const body = await errorOf(
      await request('/api/rules', { method: 'POST', body: JSON.stringify({ yaml: 'title: [unclosed' }) }),
      400,
      'rule_refused',
    );
    assert.ok(Array.isArray(body.problems) && body.problems.length > 0, 'problems listed');
  });

  it('500: a failure inside a route says nothing of it; the log has it', async () => {
    await store.close();
    const body = await errorOf(await request('/api/events'), 500, 'internal');
    assert.equal(body.error, 'internal error');
    assert.ok(logged.length > 0, 'the detail is logged');
  });
});

describe('HTTP errors on the gateway', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-http-errors-'));
  let app: ReturnType<typeof createGatewayHttp>;
  let inventory: Inventory;
  let failStatus = false;
  const request = (p: string, init: RequestInit = {}) =>
    app.request(p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });

  before(async () => {
    const store = await openFileAuthStore({ dir: path.join(dir, 'auth') });
    inventory = await Inventory.open({ dir: path.join(dir, 'inv'), maxDevices: 10, saveIntervalMs: 60_000 });
    app = createGatewayHttp({
      auth: createWebAuth({
        store,
        config: webAuthConfigSchema.parse({}),
        cookieName: 's',
        issuer: 'x',
        configTokens: [{ name: 'errors', token_sha256: sha256(TOKEN) }],
      }),
      metrics: createGatewayMetrics('gw', { processMetrics: false }),
      status: async () => {
        if (failStatus) throw new Error('/var/lib/siem/queue: EIO');
        return { status: 'ok' } as GatewayStatus;
      },
      inventory,
    });
  });
  after(async () => {
    await inventory?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('404: an unknown route and an unknown device', async () => {
    await errorOf(await request('/api/no-such-route'), 404, 'not_found');
    await errorOf(await request('/api/devices/nope'), 404, 'not_found');
    await errorOf(await request('/api/devices/nope/events'), 404, 'not_found');
  });

  it('401 without credentials', async () => {
    await errorOf(await app.request('/api/status'), 401, 'unauthenticated');
  });

  it('415 and 400 naming the field from the shared login route', async () => {
    await errorOf(
      await app.request('/api/auth/login', { method: 'POST', body: '{}' }),
      415,
      'unsupported_media_type',
    );
    await errorOf(
      await app.request('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 7, password: 'x' }),
      }),
      400,
      'invalid_body',
      'username',
    );
  });

  it('500 says nothing of the failure', async () => {
    failStatus = true;
    const body = await errorOf(await request('/api/status'), 500, 'internal');
    assert.doesNotMatch(body.error, /EIO|var/);
  });
});

describe('HTTP errors outside either server', () => {
  it('a route mounted on a bare Hono app (no handler of ours) still answers the one shape', async () => {
    const app = new Hono();
    app.get('/thing/:id', (c) => {
      throw apiError(404, 'not_found', `no thing ${c.req.param('id')}`, { field: 'id' });
    });
    app.get('/busy', () => {
      throw apiError(429, 'too_many_requests', 'slow down', { headers: { 'retry-after': '3' } });
    });
    await errorOf(await app.request('/thing/7'), 404, 'not_found', 'id');
    const busy = await app.request('/busy');
    assert.equal(busy.headers.get('retry-after'), '3');
    await errorOf(busy, 429, 'too_many_requests');
  });
});
