/**
 * Central's access control over real HTTP: the shared suite (tests/server-shared/web-auth/api-suite.ts)
 * against central on PGlite, then what only central has: alert triage for analysts, gateway
 * enrollment for admins, config API tokens with every permission, and the Secure cookie over TLS.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { type Central, startCentral } from '../../../central/index.ts';
import {
  runWebAuthApiSuite,
  type AuthServer,
  type StartOptions,
} from '../../server-shared/web-auth/api-suite.ts';
import { capturingLogger, movableClock } from '../../server-shared/web-auth/capture.ts';
import { createClient } from '../../server-shared/web-auth/client.ts';
import { requireTool } from '../../support/env.ts';
import { makeTestPki } from '../../support/tls.ts';

async function startAuthCentral(
  o: StartOptions & { http?: Record<string, unknown>; apiToken?: string } = {},
) {
  const printed: string[] = [];
  const log = capturingLogger();
  const clock = movableClock();
  const central = await startCentral(
    centralConfigSchema.parse({
      http: { listen: '127.0.0.1:0', ...o.http },
      storage: { type: 'pglite' },
      auth: { first_admin: { ...(o.passwordFile && { password_file: o.passwordFile }) } },
      api: { tokens: o.apiToken ? [{ name: 'automation', token_sha256: sha256Hex(o.apiToken) }] : [] },
      log: { level: 'debug' },
    }),
    { logger: log.logger, processMetrics: false, printSecret: (t) => printed.push(t), authNow: clock.now },
  );
  return { central, printed, log, clock };
}

runWebAuthApiSuite('central on PGlite', async (o): Promise<AuthServer> => {
  const { central, printed, log, clock } = await startAuthCentral(o);
  return {
    url: central.url(),
    cookieName: 'siem_session',
    printed,
    logs: log.text,
    advance: clock.advance,
    now: () => clock.now().getTime(),
    async storageContains(text) {
      const { rows } = await central.store.sql.query<{ n: unknown }>(
        `SELECT count(*) AS n FROM (
           SELECT row_to_json(u)::text AS t FROM users u UNION ALL
           SELECT row_to_json(s)::text FROM sessions s UNION ALL
           SELECT row_to_json(k)::text FROM api_tokens k UNION ALL
           SELECT row_to_json(a)::text FROM audit_log a) x WHERE strpos(t, $1) > 0`,
        [text],
      );
      return Number(rows[0]!.n) > 0;
    },
    readPath: '/api/gateways',
    adminAction: { method: 'POST', path: '/api/enrollment-tokens', body: { gateway_id: 'gw-x' } },
    stop: () => central.stop(),
  };
});

describe('central routes by role', () => {
  let central: Central;
  let printed: string[];
  const apiToken = newToken();
  before(async () => {
    ({ central, printed } = await startAuthCentral({ apiToken }));
  });
  after(() => central?.stop());

  it('lets an analyst triage alerts but not enroll gateways; a viewer only reads; config tokens do all', async () => {
    const api = createClient(central.url(), 'siem_session');
    const password = /password (\S+)/.exec(printed[0]!)![1]!;
    const admin = await api.session('admin', password);
    for (const role of ['viewer', 'analyst']) {
      const r = await admin.call('POST', '/api/users', {
        body: { username: role, password: `${role}-pass-word`, role },
      });
      assert.equal(r.status, 201);
    }
    const raised = await api.call('POST', '/api/alerts', {
      token: apiToken,
      body: {
        rule: { id: 'r-auth', title: 'test alert', severity: 3 },
        entity: { device_id: 'modbus:10.0.0.5/1' },
      },
    });
    assert.ok(raised.status === 201, JSON.stringify(raised.body));
    const id = (raised.body as { alert: { id: number } }).alert?.id ?? (raised.body as { id: number }).id;
    assert.ok(id, JSON.stringify(raised.body));

    const viewer = await api.session('viewer', 'viewer-pass-word');
    assert.equal((await viewer.call('GET', '/api/alerts')).status, 200);
    assert.equal((await viewer.call('GET', `/api/alerts/${id}`)).status, 200);
    const triage = await viewer.call('PATCH', `/api/alerts/${id}`, { body: { status: 'acknowledged' } });
    assert.equal(triage.status, 403);
    assert.match(triage.body.error!, /requires permission alerts/);

    const analyst = await api.session('analyst', 'analyst-pass-word');
    const ack = await analyst.call('PATCH', `/api/alerts/${id}`, { body: { status: 'acknowledged' } });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    const comment = await analyst.call('POST', `/api/alerts/${id}/comments`, { body: { body: 'looking' } });
    assert.equal(comment.status, 201);
    const detail = await analyst.call('GET', `/api/alerts/${id}`);
    assert.ok(JSON.stringify(detail.body).includes('"analyst"'), 'the analyst is the actor of the change');
    assert.equal((await analyst.call('POST', '/api/enrollment-tokens', { body: {} })).status, 403);
    assert.equal((await analyst.call('POST', '/api/gateways/gw-test/revoke')).status, 403);
    assert.equal((await analyst.call('GET', '/api/audit')).status, 403);

    assert.equal((await admin.call('POST', '/api/enrollment-tokens', { body: {} })).status, 201);
    assert.equal(
      (await api.call('POST', '/api/enrollment-tokens', { token: apiToken, body: {} })).status,
      201,
    );
    assert.equal((await api.call('GET', '/api/audit', { token: apiToken })).status, 200);

    const audit = await admin.call('GET', '/api/audit?limit=200');
    const entries = audit.body.entries as Array<{ actor: string; action: string; outcome: string }>;
    assert.ok(
      entries.some(
        (e) => e.actor === 'analyst' && e.action === 'PATCH /api/alerts/:id' && e.outcome === '200',
      ),
    );
    assert.ok(entries.some((e) => e.actor === 'automation' && e.action === 'POST /api/enrollment-tokens'));
  });
});

describe('central session cookie over TLS', () => {
  it('is Secure when served over https', async (t) => {
    if (!requireTool(t, 'openssl', 'openssl')) return;
    const pki = makeTestPki();
    const { central, printed } = await startAuthCentral({
      http: { tls: { cert_file: pki.serverCert, key_file: pki.serverKey } },
    });
    try {
      const password = /password (\S+)/.exec(printed[0]!)![1]!;
      const url = new URL('/api/auth/login', central.url());
      const setCookie = await new Promise<string[]>((resolve, reject) => {
        const req = request(
          url,
          { method: 'POST', ca: pki.read(pki.caFile), headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            assert.equal(res.statusCode, 200);
            resolve(res.headers['set-cookie'] ?? []);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ username: 'admin', password }));
      });
      assert.equal(setCookie.length, 1);
      assert.match(setCookie[0]!, /^siem_session=[A-Za-z0-9_-]{43};/);
      assert.match(setCookie[0]!, /; Secure/);
      assert.match(setCookie[0]!, /; HttpOnly/);
      assert.match(setCookie[0]!, /; SameSite=Strict/);
    } finally {
      await central.stop();
    }
  });
});
