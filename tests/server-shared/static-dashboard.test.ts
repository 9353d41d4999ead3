/**
 * The one static dashboard server both servers use (server-shared/static-dashboard.ts), in
 * process: the built files with the CSP of server-shared/web-auth/SPEC.md §4 and no-cache, GET and
 * HEAD only, the paths that are not pages (and everything under them) left to the routes behind,
 * nothing outside the directory, and a `/` that names the dashboard when it is not built. The
 * servers' own wiring is tested in tests/gateway/http-dashboard.test.ts and the e2e tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Hono } from 'hono';
import { DASHBOARD_CSP, registerDashboardStatic } from '../../server-shared/static-dashboard.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'static-dashboard-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>soc</title>');
writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');

function app(options: { dir: string | undefined }): Hono {
  const a = new Hono();
  registerDashboardStatic(a, { ...options, notPages: ['/api', '/link'], name: 'the SOC dashboard' });
  a.all('/api/*', (c) => c.text('api'));
  a.get('/link', (c) => c.text('link'));
  a.get('/link/x', (c) => c.text('link below'));
  return a;
}

describe('static dashboard', () => {
  it('serves the files with the CSP and no-cache, on GET and HEAD', async () => {
    const served = app({ dir });
    const page = await served.request('/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>soc<\/title>/);
    assert.equal(page.headers.get('content-security-policy'), DASHBOARD_CSP);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const js = await served.request('/app.js', { method: 'HEAD' });
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await served.request('/', { method: 'POST' })).status, 404);
  });

  it('leaves the paths that are not pages, and what is under them, to the routes', async () => {
    const served = app({ dir });
    assert.equal(await (await served.request('/api/anything')).text(), 'api');
    assert.equal(await (await served.request('/link')).text(), 'link');
    const below = await served.request('/link/x');
    assert.equal(await below.text(), 'link below');
    assert.equal(below.headers.get('content-security-policy'), null);
  });

  it('serves nothing outside its directory', async () => {
    const served = app({ dir: path.join(dir, 'sub') });
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    for (const p of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt']) {
      const res = await served.request(p);
      assert.notEqual(await res.text(), 'secret', p);
    }
  });

  it('says at / that the dashboard is not built, naming it and where it looked', async () => {
    const missing = await app({ dir: path.join(dir, 'missing') }).request('/');
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /the SOC dashboard is not built in .*missing/);
    const none = await app({ dir: undefined }).request('/');
    assert.equal(none.status, 404);
    assert.match(await none.text(), /the SOC dashboard is not built here/);
  });
});
