/**
 * SPEC.md §1: every API route declares the permission it needs. Walks the Hono route table of
 * central's app and of the gateway's local HTTP app (as their factories build them, so routes
 * added later are covered) and fails on any /api route without `requirePermission(...)`,
 * `requireLogin()` or `allowAnonymous()`. Also shows the check and the runtime refusal can fail.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { buildCentral } from '../../../central/index.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPgliteStore } from '../../../central/store/index.ts';
import { openFileAuthStore } from '../../../gateway/auth/file-store.ts';
import { createGatewayHttp, type GatewayStatus } from '../../../gateway/http/index.ts';
import { Inventory } from '../../../gateway/inventory/index.ts';
import { createGatewayMetrics } from '../../../gateway/metrics.ts';
import {
  createWebAuth,
  requirePermission,
  undeclaredApiRoutes,
  webAuthConfigSchema,
} from '../../../server-shared/web-auth/index.ts';

describe('every /api route declares a permission', () => {
  it('on central', async () => {
    const store = await createPgliteStore();
    try {
      await store.init(new Date());
      const { app } = await buildCentral(centralConfigSchema.parse({ storage: { type: 'pglite' } }), store, {
        metrics: createCentralMetrics({ processMetrics: false }),
        logger: createLogger('silent'),
        apiTokens: [],
      });
      const api = app.routes.filter((r) => r.path.startsWith('/api/') && r.method !== 'ALL');
      assert.ok(api.length >= 20, `${api.length} /api routes found`);
      assert.deepEqual(undeclaredApiRoutes(app), []);
    } finally {
      await store.close();
    }
  });

  it('on the gateway', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-routes-'));
    try {
      const store = await openFileAuthStore({ dir: path.join(dir, 'auth') });
      const inventory = await Inventory.open({
        dir: path.join(dir, 'inv'),
        maxDevices: 10,
        saveIntervalMs: 60_000,
      });
      const app = createGatewayHttp({
        auth: createWebAuth({ store, config: webAuthConfigSchema.parse({}), cookieName: 's', issuer: 'x' }),
        metrics: createGatewayMetrics('gw', { processMetrics: false }),
        status: async () => ({}) as GatewayStatus,
        inventory,
      });
      const api = app.routes.filter((r) => r.path.startsWith('/api/') && r.method !== 'ALL');
      assert.ok(api.length >= 10, `${api.length} /api routes found`);
      assert.deepEqual(undeclaredApiRoutes(app), []);
      const open = await app.request('/healthz');
      assert.notEqual(open.status, 401, '/healthz stays open');
      await inventory.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds an undeclared route, and the middleware refuses it even to an admin token', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-routes-'));
    try {
      const store = await openFileAuthStore({ dir });
      const token = 'root-token-0123456789';
      const auth = createWebAuth({
        store,
        config: webAuthConfigSchema.parse({}),
        cookieName: 's',
        issuer: 'x',
        configTokens: [{ name: 'root', token_sha256: createHash('sha256').update(token).digest('hex') }],
      });
      const app = new Hono();
      app.use('/api/*', auth.middleware);
      app.route('/api', auth.routes);
      app.get('/api/declared', requirePermission('read'), (c) => c.json({ ok: true }));
      app.post('/api/forgotten', (c) => c.json({ ok: true }));
      const sub = new Hono();
      sub.get('/nested', (c) => c.json({ ok: true }));
      app.route('/api/sub', sub);
      assert.deepEqual(undeclaredApiRoutes(app), ['POST /api/forgotten', 'GET /api/sub/nested']);
      const headers = { authorization: `Bearer ${token}` };
      assert.equal((await app.request('/api/declared', { headers })).status, 200);
      const refused = await app.request('/api/forgotten', { method: 'POST', headers });
      assert.equal(refused.status, 403, 'fail closed');
      assert.equal((await app.request('/api/declared')).status, 401);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
