/**
 * Security review, issue 15 item 14, on both servers: the CSRF token a cookie-authenticated change
 * carries is compared in constant time (crypto.timingSafeEqual, seen here by wrapping it: `!==`
 * returns at the first differing byte, which leaks the token byte by byte to someone who can time
 * many requests); and the gateway's 500 handler answers a generic message, the error's own text
 * (paths, addresses, internals) going to the log only.
 */
import assert from 'node:assert/strict';
import crypto, { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, mock } from 'node:test';
import { openFileAuthStore } from '../../gateway/auth/file-store.ts';
import { createGatewayHttp } from '../../gateway/http/index.ts';
import { Inventory } from '../../gateway/inventory/index.ts';
import { createGatewayMetrics } from '../../gateway/metrics.ts';
import { createWebAuth, webAuthConfigSchema } from '../../server-shared/web-auth/index.ts';
import { capturingLogger } from '../server-shared/web-auth/capture.ts';
import { TARGETS } from './servers.ts';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

for (const [name, start] of TARGETS) {
  describe(`CSRF token comparison (${name})`, () => {
    it('compares the presented token with timingSafeEqual, and still refuses a wrong one', async () => {
      const s = await start();
      const seen: Buffer[] = [];
      const original = crypto.timingSafeEqual;
      const spy = mock.method(
        crypto,
        'timingSafeEqual',
        (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
          seen.push(
            Buffer.from(a.buffer, a.byteOffset, a.byteLength),
            Buffer.from(b.buffer, b.byteOffset, b.byteLength),
          );
          return original(a, b);
        },
      );
      // The named imports of node:crypto follow the default export only after this.
      syncBuiltinESMExports();
      try {
        const admin = await s.api.session('admin', s.adminPassword);
        const body = { username: 'csrf-probe', password: 'csrf-probe-password', role: 'viewer' };
        // Same length as the real token, differing in the last character only.
        const wrong = admin.csrf.slice(0, -1) + (admin.csrf.endsWith('A') ? 'B' : 'A');
        seen.length = 0;
        const refused = await s.api.call('POST', '/api/users', { cookie: admin.cookie, csrf: wrong, body });
        assert.equal(refused.status, 403);
        assert.ok(
          seen.some((b) => b.equals(sha256(wrong)) || b.equals(Buffer.from(wrong))),
          'the presented token went through timingSafeEqual',
        );
        seen.length = 0;
        const ok = await admin.call('POST', '/api/users', { body });
        assert.equal(ok.status, 201, JSON.stringify(ok.body));
        assert.ok(seen.some((b) => b.equals(sha256(admin.csrf)) || b.equals(Buffer.from(admin.csrf))));
        assert.equal(
          (await s.api.call('POST', '/api/users', { cookie: admin.cookie, csrf: `${admin.csrf}x`, body }))
            .status,
          403,
          'a longer token is refused too',
        );
      } finally {
        spy.mock.restore();
        syncBuiltinESMExports();
        await s.stop();
      }
    });
  });
}

describe("the gateway's 500 answer", () => {
  it('is generic; the detail is logged', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-sec-500-'));
    const log = capturingLogger();
    try {
      const store = await openFileAuthStore({ dir: path.join(dir, 'auth') });
      const inventory = await Inventory.open({
        dir: path.join(dir, 'inv'),
        maxDevices: 10,
        saveIntervalMs: 60_000,
      });
      const metrics = createGatewayMetrics('gw', { processMetrics: false });
      const auth = createWebAuth({
        store,
        config: webAuthConfigSchema.parse({}),
        cookieName: 's',
        issuer: 'x',
      });
      const app = createGatewayHttp({
        auth,
        metrics,
        logger: log.logger,
        status: async () => {
          throw new Error("EACCES: permission denied, open '/var/lib/siem-gateway/secret-internal-path'");
        },
        inventory,
      });
      const res = await app.request('/healthz');
      assert.equal(res.status, 500);
      const text = await res.text();
      assert.deepEqual(JSON.parse(text), { error: 'internal error', code: 'internal' });
      assert.doesNotMatch(text, /secret-internal-path|EACCES/);
      assert.match(log.text(), /secret-internal-path/, 'the detail is in the log');
      assert.match(
        await metrics.registry.metrics(),
        /siem_gateway_errors_total\{[^}]*component="http"[^}]*\} 1/,
      );
      auth.close();
      await inventory.close();
      await store.close?.();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
