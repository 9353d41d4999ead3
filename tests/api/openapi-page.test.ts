/**
 * The API docs page (dashboards/shared/static/api-docs.html): served by central with the
 * dashboards' Content-Security-Policy, it renders the OpenAPI document in Chromium with no CSP
 * violation and no request leaving the server, and tells an anonymous visitor to log in.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser } from 'playwright-core';
import { buildCentral } from '../../central/index.ts';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { createLogger } from '../../central/log.ts';
import { createCentralMetrics } from '../../central/metrics.ts';
import { createPgliteStore, type EventStore } from '../../central/store/index.ts';
import { launchBrowser } from '../support/browser.ts';
import { skipUnmet } from '../support/env.ts';

describe('API docs page', () => {
  let store: EventStore;
  let server: ServerType;
  let base: string;
  let browser: Browser | undefined;
  const token = newToken();

  before(async (t) => {
    browser = await launchBrowser(t as never);
    store = await createPgliteStore();
    await store.init(new Date());
    const { app } = await buildCentral(centralConfigSchema.parse({ storage: { type: 'pglite' } }), store, {
      metrics: createCentralMetrics({ processMetrics: false }),
      logger: createLogger('silent'),
      apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
    });
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await browser?.close();
    server?.close();
    await store?.close();
  });

  it('is served with the CSP and renders every operation, same-origin only', async (t) => {
    const res = await fetch(`${base}/api-docs.html`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${token}` } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      // Chromium asks for /favicon.ico on its own; there is none.
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(base)) problems.push(`external request ${r.url()}`);
    });
    await page.goto(`${base}/api-docs.html`);
    await page.waitForSelector('.op', { timeout: 60_000 });
    const ops = await page.locator('.op').count();
    assert.ok(ops >= 40, `${ops} operations rendered`);
    assert.match((await page.textContent('#title')) ?? '', /edge-siem central/);
    assert.deepEqual(problems, []);
    await context.close();
    const anonymous = await browser.newPage();
    await anonymous.goto(`${base}/api-docs.html`);
    await anonymous.waitForSelector('#info >> text=Log in', { timeout: 60_000 });
    await anonymous.close();
  });
});
