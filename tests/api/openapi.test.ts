/**
 * Issue 21 ask 6: the OpenAPI 3.1 documents of central (on PGlite) and the gateway. Every mounted
 * /api route (the enumeration of the "every /api route declares a permission" test) is described,
 * the document is structurally OpenAPI 3.1 with JSON Schema 2020-12 schemas ajv compiles, the
 * permission of each operation is the one its route declares, and real answers of the running
 * apps validate against their operation's response schema.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Hono } from 'hono';
import { buildCentral } from '../../central/index.ts';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { CENTRAL_ROUTE_DOCS } from '../../central/api/openapi.ts';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { createLogger } from '../../central/log.ts';
import { createCentralMetrics } from '../../central/metrics.ts';
import { createPgliteStore, type EventStore } from '../../central/store/index.ts';
import { openFileAuthStore } from '../../gateway/auth/file-store.ts';
import { createGatewayHttp, type GatewayStatus } from '../../gateway/http/index.ts';
import { GATEWAY_ROUTE_DOCS } from '../../gateway/http/openapi.ts';
import { Inventory } from '../../gateway/inventory/index.ts';
import { createGatewayMetrics } from '../../gateway/metrics.ts';
import { apiRoutes, type RouteDocs, undescribedApiRoutes } from '../../server-shared/openapi/index.ts';
import { createWebAuth, webAuthConfigSchema } from '../../server-shared/web-auth/index.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** OpenAPI 3.1 §4.8 structure: what a client generator relies on. Returns the problems found. */
function structureProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (doc.openapi !== '3.1.0') problems.push('openapi is not 3.1.0');
  if (typeof doc.info?.title !== 'string' || typeof doc.info?.version !== 'string') problems.push('info');
  const ids = new Set<string>();
  const text = JSON.stringify(doc);
  for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
    if (!doc.components.schemas[m[1]!]) problems.push(`dangling $ref ${m[1]}`);
  }
  if (/"\$ref":"#\/\$defs/.test(text)) problems.push('a $ref into $defs of the document root');
  for (const [p, item] of Object.entries<Json>(doc.paths)) {
    if (!p.startsWith('/')) problems.push(`path ${p}`);
    const names = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries<Json>(item)) {
      if (!METHODS.includes(method)) problems.push(`${p}: method ${method}`);
      if (ids.has(op.operationId)) problems.push(`duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      const declared = (op.parameters ?? []).filter((x: Json) => x.in === 'path').map((x: Json) => x.name);
      assert.deepEqual(declared.sort(), [...names].sort(), `${method} ${p}: path parameters`);
      for (const x of op.parameters ?? []) {
        if (!['path', 'query', 'header', 'cookie'].includes(x.in) || typeof x.name !== 'string' || !x.schema)
          problems.push(`${method} ${p}: parameter ${JSON.stringify(x)}`);
      }
      if (!op.responses || Object.keys(op.responses).length === 0)
        problems.push(`${method} ${p}: no responses`);
      for (const [status, r] of Object.entries<Json>(op.responses ?? {})) {
        if (!/^(default|[1-5]\d\d)$/.test(status)) problems.push(`${method} ${p}: status ${status}`);
        if (typeof r.description !== 'string') problems.push(`${method} ${p} ${status}: description`);
      }
      for (const req of op.security ?? []) {
        for (const scheme of Object.keys(req)) {
          if (!doc.components.securitySchemes[scheme]) problems.push(`${method} ${p}: scheme ${scheme}`);
        }
      }
    }
  }
  return problems;
}

/** Validates answers against the document's response schemas (ajv, draft 2020-12). */
function validator(doc: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const cache = new Map<string, ReturnType<typeof ajv.compile>>();
  const schemaOf = (method: string, p: string, status: number) => {
    const responses = doc.paths[p]?.[method]?.responses;
    const schema = (responses?.[String(status)] ?? responses?.default)?.content?.['application/json']?.schema;
    assert.ok(schema, `${method} ${p} ${status} is described with a JSON schema`);
    return schema as Json;
  };
  return {
    /** Every schema of the document compiles (ajv checks each against the 2020-12 meta-schema). */
    compileAll() {
      let n = 0;
      const compile = (schema: Json | undefined) => {
        if (!schema) return;
        ajv.compile({ ...schema, components: doc.components });
        n++;
      };
      for (const item of Object.values<Json>(doc.paths)) {
        for (const op of Object.values<Json>(item)) {
          for (const r of Object.values<Json>(op.responses)) compile(r.content?.['application/json']?.schema);
          compile(op.requestBody?.content?.['application/json']?.schema);
          for (const x of op.parameters ?? []) compile(x.schema);
        }
      }
      return n;
    },
    async check(res: Response, method: string, p: string) {
      const key = `${method} ${p} ${res.status}`;
      let validate = cache.get(key);
      if (!validate) {
        validate = ajv.compile({ ...schemaOf(method, p, res.status), components: doc.components });
        cache.set(key, validate);
      }
      const body: unknown = await res.json();
      assert.ok(
        validate(body),
        `${key}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 400)}`,
      );
    },
  };
}

function described(app: Hono, docs: RouteDocs): void {
  assert.ok(apiRoutes(app).length >= 10);
  // Names each mounted /api route without a line in its table (central/api/openapi.ts, gateway/http/openapi.ts).
  assert.deepEqual(undescribedApiRoutes(app, docs), [], 'these routes are not in the OpenAPI route table');
}

describe('OpenAPI of central', () => {
  let store: EventStore;
  let app: Hono;
  const token = newToken();
  const headers = { authorization: `Bearer ${token}` };
  let doc: Json;

  before(async () => {
    store = await createPgliteStore();
    await store.init(new Date());
    ({ app } = await buildCentral(centralConfigSchema.parse({ storage: { type: 'pglite' } }), store, {
      metrics: createCentralMetrics({ processMetrics: false }),
      logger: createLogger('silent'),
      apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
    }));
  });
  after(async () => {
    await store.close();
  });

  it('is served to an authenticated caller only', async () => {
    assert.equal((await app.request('/api/openapi.json')).status, 401);
    const res = await app.request('/api/openapi.json', { headers });
    assert.equal(res.status, 200);
    doc = (await res.json()) as Json;
  });

  it('describes every mounted /api route, with the permission the route declares', () => {
    described(app, CENTRAL_ROUTE_DOCS);
    for (const r of apiRoutes(app)) {
      const p = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths[p]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.key} in the served document`);
      assert.equal(op['x-permission'], r.declared, r.key);
    }
    assert.equal(doc.paths['/api/alerts'].get['x-permission'], 'read');
    assert.deepEqual(doc.paths['/api/alerts'].post.security[1], { bearer: ['alerts'] });
    assert.deepEqual(doc.paths['/api/auth/login'].post.security, []);
    assert.deepEqual(doc.paths['/api/users'].post.security[0], { session: [], csrf: [] });
    const q = doc.paths['/api/alerts'].get.parameters.map((x: Json) => x.name);
    assert.ok(q.includes('severity_max') && q.includes('limit'), 'query from the route schema');
  });

  it('is structurally OpenAPI 3.1 and its schemas compile as JSON Schema 2020-12', () => {
    assert.deepEqual(structureProblems(doc), []);
    assert.ok(validator(doc).compileAll() > 40);
  });

  it('real answers validate against the document', async () => {
    const v = validator(doc);
    const get = (p: string) => app.request(p, { headers });
    const json = { ...headers, 'content-type': 'application/json' };
    const raised = await app.request('/api/alerts', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        rule: { id: 'r1', title: 'Test rule', level: 'high' },
        entity: { host: 'plc-1' },
      }),
    });
    assert.equal(raised.status, 201, await raised.clone().text());
    await v.check(raised, 'post', '/api/alerts');
    const page = await get('/api/alerts');
    const alertId = ((await page.clone().json()) as Json).alerts[0].id;
    await v.check(page, 'get', '/api/alerts');
    await v.check(await get(`/api/alerts/${alertId}`), 'get', '/api/alerts/{id}');
    const comment = await app.request(`/api/alerts/${alertId}/comments`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ body: 'looking' }),
    });
    await v.check(comment, 'post', '/api/alerts/{id}/comments');
    const patched = await app.request(`/api/alerts/${alertId}`, {
      method: 'PATCH',
      headers: json,
      body: JSON.stringify({ status: 'acknowledged' }),
    });
    await v.check(patched, 'patch', '/api/alerts/{id}');
    await v.check(await get(`/api/alerts/${alertId}/related`), 'get', '/api/alerts/{id}/related');
    await v.check(await get('/api/alert-suppressions'), 'get', '/api/alert-suppressions');
    await v.check(await get('/api/events?limit=5'), 'get', '/api/events');
    await v.check(await get('/api/events/histogram'), 'get', '/api/events/histogram');
    await v.check(await get('/api/events/top?field=host'), 'get', '/api/events/top');
    await v.check(await get('/api/overview'), 'get', '/api/overview');
    await v.check(await get('/api/fleet'), 'get', '/api/fleet');
    await v.check(await get('/api/gateways'), 'get', '/api/gateways');
    await v.check(await get('/api/rules'), 'get', '/api/rules');
    await v.check(await get('/api/devices'), 'get', '/api/devices');
    await v.check(await get('/api/auth/me'), 'get', '/api/auth/me');
    await v.check(await get('/api/users'), 'get', '/api/users');
    await v.check(await get('/api/audit'), 'get', '/api/audit');
    await v.check(await get('/api/enrich/ip/8.8.8.8'), 'get', '/api/enrich/ip/{ip}');
    const created = await app.request('/api/enrollment-tokens', {
      method: 'POST',
      headers: json,
      body: '{}',
    });
    await v.check(created, 'post', '/api/enrollment-tokens');
    // Errors have the one error shape.
    await v.check(await get('/api/alerts/999999'), 'get', '/api/alerts/{id}');
    await v.check(await get('/api/alerts?limit=0'), 'get', '/api/alerts');
    await v.check(await app.request('/api/alerts'), 'get', '/api/alerts');
  });

  it('a drifted answer fails validation (the check can fail)', async () => {
    const v = validator(doc);
    const res = new Response(JSON.stringify({ alerts: [{ id: 'x' }], next_before_id: null }), {
      status: 200,
    });
    await assert.rejects(v.check(res, 'get', '/api/alerts'));
  });
});

describe('OpenAPI of the gateway', () => {
  let dir: string;
  let app: Hono;
  let inventory: Inventory;
  const token = 'gateway-openapi-token-0123456789';
  const headers = { authorization: `Bearer ${token}` };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'siem-openapi-'));
    const store = await openFileAuthStore({ dir: path.join(dir, 'auth') });
    inventory = await Inventory.open({ dir: path.join(dir, 'inv'), maxDevices: 10, saveIntervalMs: 60_000 });
    app = createGatewayHttp({
      auth: createWebAuth({
        store,
        config: webAuthConfigSchema.parse({}),
        cookieName: 's',
        issuer: 'x',
        configTokens: [{ name: 'root', token_sha256: sha256Hex(token) }],
      }),
      metrics: createGatewayMetrics('gw', { processMetrics: false }),
      status: async () =>
        ({
          status: 'ok',
          gateway: 'gw',
          link: {
            connected: false,
            connected_since: null,
            last_error: null,
            in_flight_batches: 0,
            window: 8,
            paused_until: null,
            clock_offset_ms: null,
            disconnected_since: new Date(0).toISOString(),
            ack_rate_per_sec: 0,
            endpoint: 'wss://central.example:8443/link',
            endpoint_index: 0,
            endpoints: ['wss://central.example:8443/link'],
            endpoint_switches: 0,
          },
          queue: {
            records: 0,
            events: 0,
            bytes: 0,
            byLane: { alert: 0, security: 0, telemetry: 0 },
            bytesByLane: { alert: 0, security: 0, telemetry: 0 },
            evicted: { security: 0, telemetry: 0 },
            max_size_bytes: 1024,
            last_write_error: null,
            oldest_unsent_age_secs: null,
            expected_drain_secs: null,
          },
          sources: [],
          process: { rss_bytes: 1, heap_used_bytes: 1, external_bytes: 1, array_buffers_bytes: 1 },
        }) satisfies GatewayStatus,
      inventory,
    });
  });
  after(async () => {
    await inventory.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes every route, validates as OpenAPI 3.1, and real answers validate against it', async () => {
    assert.equal((await app.request('/api/openapi.json')).status, 401);
    const doc = (await (await app.request('/api/openapi.json', { headers })).json()) as Json;
    described(app, GATEWAY_ROUTE_DOCS);
    assert.deepEqual(structureProblems(doc), []);
    const v = validator(doc);
    assert.ok(v.compileAll() > 15);
    const get = (p: string) => app.request(p, { headers });
    await v.check(await get('/api/status'), 'get', '/api/status');
    await v.check(await get('/api/devices'), 'get', '/api/devices');
    await v.check(await get('/api/devices/nope'), 'get', '/api/devices/{id}');
    await v.check(await get('/api/alerts'), 'get', '/api/alerts');
    await v.check(await get('/api/devices/nope/baseline'), 'get', '/api/devices/{id}/baseline');
    await v.check(await get('/api/auth/me'), 'get', '/api/auth/me');
    await v.check(await get('/api/openapi.json'), 'get', '/api/openapi.json');
  });
});
