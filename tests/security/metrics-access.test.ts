/**
 * Attack (security review, issue 15 item 13): `/metrics` was anonymous and names gateways,
 * versions and counts, and `/healthz` told anyone the gateway's name and queue size (central: the
 * number of connected gateways). Checked on both servers: with `http.metrics.token_sha256` the
 * token is required, with `http.metrics.allow` a peer outside the blocks is refused (both: both
 * must pass), and `/healthz` says only whether the server is up. A bad block is a config error
 * naming its key.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { TARGETS } from './servers.ts';

const token = randomBytes(24).toString('base64url');
const tokenSha256 = createHash('sha256').update(token).digest('hex');

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text() };
}

for (const [name, start] of TARGETS) {
  describe(`/metrics and /healthz give nothing away (${name})`, () => {
    it('requires the bearer token from an allowed address, and /healthz names nothing', async () => {
      const s = await start({
        http: { metrics: { token_sha256: tokenSha256, allow: ['127.0.0.0/8', '::1/128'] } },
      });
      try {
        const anonymous = await get(`${s.url}/metrics`);
        assert.equal(anonymous.status, 401, 'no token');
        assert.doesNotMatch(anonymous.text, /siem_/, 'no metric in the refusal');
        assert.equal((await get(`${s.url}/metrics`, { authorization: 'Bearer wrong-token' })).status, 401);
        assert.equal((await get(`${s.url}/metrics`, { authorization: `Bearer ${token}x` })).status, 401);
        const ok = await get(`${s.url}/metrics`, { authorization: `Bearer ${token}` });
        assert.equal(ok.status, 200);
        assert.match(ok.text, /^# HELP siem_/m);

        const health = await get(`${s.url}/healthz`);
        assert.equal(health.status, 200);
        assert.deepEqual(Object.keys(JSON.parse(health.text) as object), ['status']);
        assert.doesNotMatch(health.text, /gw-sec|central|\d/, 'no name, version or count');
      } finally {
        await s.stop();
      }
    });

    it('refuses a peer outside the allow-list, even with the token', async () => {
      const s = await start({ http: { metrics: { token_sha256: tokenSha256, allow: ['192.0.2.0/24'] } } });
      try {
        const refused = await get(`${s.url}/metrics`, { authorization: `Bearer ${token}` });
        assert.equal(refused.status, 403);
        assert.doesNotMatch(refused.text, /siem_/);
        assert.equal((await get(`${s.url}/healthz`)).status, 200, '/healthz stays open');
      } finally {
        await s.stop();
      }
    });
  });
}

describe('http.metrics in the configs', () => {
  it('names the key of a bad address block or digest', () => {
    for (const schema of [gatewayConfigSchema, centralConfigSchema]) {
      const base =
        schema === gatewayConfigSchema
          ? {
              gateway: { id: 'gw-x', data_dir: '/tmp/x' },
              sources: {},
              central: { endpoint: 'ws://127.0.0.1:9/link' },
            }
          : { storage: { type: 'pglite' } };
      for (const metrics of [
        { allow: ['10.0.0.0/33'] },
        { allow: ['not-an-address'] },
        { allow: ['10.0.0.0/8/8'] },
        { token_sha256: 'ABC' },
        { tokens: [] },
      ]) {
        const parsed = schema.safeParse({ ...base, http: { metrics } });
        assert.equal(parsed.success, false, JSON.stringify(metrics));
        assert.deepEqual(
          parsed.error!.issues.map((i) => i.path.slice(0, 2).join('.')),
          ['http.metrics'],
          'one issue, naming http.metrics',
        );
      }
      const ok = schema.safeParse({
        ...base,
        http: { metrics: { allow: ['10.0.0.0/8', '2001:db8::/32', '::1'] } },
      });
      assert.equal(ok.success, true, JSON.stringify(ok.error?.issues));
    }
  });
});
