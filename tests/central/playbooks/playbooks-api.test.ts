/**
 * Response playbooks through central's API, in process on PGlite (issue 21 ask 4): a playbook on
 * a rule calls a real HTTP receiver through a configured webhook sink (signed with its HMAC key),
 * disables a user (their sessions end) and opens an incident, each action with its outcome and
 * audited; undo re-enables the user and closes the incident, a webhook cannot be undone. A playbook
 * needing approval does nothing until an analyst approves (the API token is removed, then restored
 * by undo, and works again) or rejects it. A gateway action for an offline gateway is queued with
 * the alert's attacker address as its target. Refusals: anonymous 401, a viewer or an analyst
 * cannot create playbooks, a viewer cannot approve, an unknown webhook sink is a 400.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { type BuiltCentral, buildCentral } from '../../../central/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import {
  createPgliteStore,
  createStore,
  type EventStore,
  storeConfigSchema,
} from '../../../central/store/index.ts';
import { newUserRecord } from '../../../server-shared/web-auth/password.ts';
import { skipUnmet, waitFor } from '../../support/env.ts';
import { requirePostgres, type TempDatabase } from '../../support/postgres.ts';
import { iso, makeEvent } from '../store/fixtures.ts';

const T = Date.now();
const KEY = 'playbook-test-hmac-key-0123456789';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
for (const kind of ['pglite', 'postgres'] as const)
  describe(`response playbooks API (${kind})`, () => {
    let db: TempDatabase | undefined;
    let store: EventStore;
    let built: BuiltCentral;
    let receiver: Server;
    const received: Array<{ body: string; signature: string; timestamp: string }> = [];
    const adminToken = newToken();
    // Personal API tokens carry the `siem_` prefix (server-shared/web-auth/session.ts).
    const analystToken = `siem_${newToken()}`;
    const viewerToken = `siem_${newToken()}`;
    const victimToken = `siem_${newToken()}`;
    let seq = 0;

    const call = async (token: string | null, method: string, path: string, body?: unknown) => {
      const res = await built.app.request(path, {
        method,
        headers: {
          ...(token && { authorization: `Bearer ${token}` }),
          'content-type': 'application/json',
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any) };
    };
    const admin = (method: string, path: string, body?: unknown) => call(adminToken, method, path, body);

    before(async (t) => {
      if (kind === 'postgres') {
        db = await requirePostgres(t as never);
        if (!db) return;
      }
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({
            body: Buffer.concat(chunks).toString('utf8'),
            signature: String(req.headers['x-siem-signature']),
            timestamp: String(req.headers['x-siem-timestamp']),
          });
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const port = (receiver.address() as AddressInfo).port;
      process.env.PLAYBOOK_TEST_HOOK_KEY = KEY;
      store = db
        ? await createStore(storeConfigSchema.parse({ type: 'postgres', url: db.url }))
        : await createPgliteStore();
      await store.init(new Date(T));
      const config = centralConfigSchema.parse({
        storage: db ? { type: 'postgres', url: db.url } : { type: 'pglite' },
        // No automatic incidents: the playbook's open_incident action is what opens one here.
        alerts: { incident_window_secs: 0 },
        sinks: {
          soar: {
            type: 'webhook',
            url: `http://127.0.0.1:${port}/hook`,
            secret_env: 'PLAYBOOK_TEST_HOOK_KEY',
            // The test's receiver is on loopback, which the address guard refuses unless allowed.
            allow_addresses: ['127.0.0.1'],
            // Only the playbook calls it: the alert forwarding filter takes nothing.
            filter: { tags: ['never-forwarded'] },
          },
          // An admin's mistake (or a planted config): a sink aimed at the cloud metadata address.
          metadata: {
            type: 'webhook',
            url: 'http://169.254.169.254/latest/meta-data/',
            secret_env: 'PLAYBOOK_TEST_HOOK_KEY',
            filter: { tags: ['never-forwarded'] },
          },
        },
      });
      built = await buildCentral(config, store, {
        metrics: createCentralMetrics({ processMetrics: false }),
        logger: createLogger('silent'),
        apiTokens: [{ name: 'soc-admin', token_sha256: sha256Hex(adminToken) }],
      });
      const auth = built.authStore;
      const now = new Date();
      for (const [username, role] of [
        ['ana', 'analyst'],
        ['vic', 'viewer'],
        ['mallory', 'analyst'],
        ['svc', 'admin'],
      ] as const) {
        await auth.createUser(await newUserRecord(username, role, 'a long enough password', now));
      }
      const token = async (id: string, secret: string, username: string, scopes: any[]) =>
        auth.createToken({
          id,
          token_sha256: sha256Hex(secret),
          name: id,
          username,
          scopes,
          created_at: now,
          expires_at: null,
          last_used_at: null,
        });
      await token('t-ana', analystToken, 'ana', ['read', 'alerts', 'rules']);
      await token('t-vic', viewerToken, 'vic', ['read']);
      await token('t-svc', victimToken, 'svc', ['read']);
    });
    after(async () => {
      await built?.stop();
      await store?.close();
      receiver?.close();
      await db?.drop();
    });
    /** A test without its store (PostgreSQL unreachable) records why and returns. */
    const ready = (t: TestContext) => {
      if (!built) skipUnmet(t);
      return built !== undefined;
    };

    /** Stores an event from `ip` and raises an alert of `rule` on gateway gw-1 for it. */
    async function raise(rule: string, ip = '10.9.8.66') {
      seq += 1;
      const event = makeEvent('gw-1', seq, iso(T - 1000 + seq), {
        source: 'mqtt',
        kind: 'security',
        action: 'mqtt.auth_failure',
        src: { ip, port: 40000 + seq },
        device: { id: `mqtt:rot-${seq}` },
        fields: { client_id: `rot-${seq}` },
      });
      await store.insertEvents([event]);
      const res = await admin('POST', '/api/alerts', {
        rule: { id: rule, title: `Rule ${rule}`, level: 'high', techniques: ['T0812'] },
        entity: { device_id: `mqtt:rot-${seq}`, gateway: 'gw-1' },
        event_ids: [event.id],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.alert?.id ?? res.body.id;
    }

    const runFor = (playbook: string, status?: string) =>
      waitFor(
        async () => {
          const { body } = await admin('GET', `/api/playbook-runs?playbook=${playbook}`);
          const run = body.runs[0];
          return run && run.actions.length > 0 && (!status || run.status === status) ? run : undefined;
        },
        { timeoutMs: 60_000, what: `a ${status ?? ''} run of ${playbook}` },
      );

    it('refuses anonymous and under-privileged changes, and bad playbooks', async (t) => {
      if (!ready(t)) return;
      const playbook = { id: 'p-x', name: 'x', actions: [{ type: 'open_incident' }] };
      assert.equal((await call(null, 'GET', '/api/playbooks')).status, 401);
      assert.equal((await call(null, 'POST', '/api/playbooks', playbook)).status, 401);
      assert.equal((await call(viewerToken, 'POST', '/api/playbooks', playbook)).status, 403);
      assert.equal((await call(analystToken, 'POST', '/api/playbooks', playbook)).status, 403);
      assert.equal((await call(analystToken, 'DELETE', '/api/playbooks/p-x')).status, 403);
      assert.equal((await call(viewerToken, 'POST', '/api/playbook-runs/1/approve')).status, 403);
      assert.equal((await call(viewerToken, 'POST', '/api/playbook-actions/1/undo')).status, 403);
      assert.equal((await call(viewerToken, 'GET', '/api/playbooks')).status, 200);
      const unknownSink = await admin('POST', '/api/playbooks', {
        ...playbook,
        actions: [{ type: 'webhook', sink: 'nowhere' }],
      });
      assert.equal(unknownSink.status, 400);
      assert.match(unknownSink.body.error, /no webhook sink nowhere/);
      const badType = await admin('POST', '/api/playbooks', { ...playbook, actions: [{ type: 'rm -rf' }] });
      assert.equal(badType.status, 400);
      const noActions = await admin('POST', '/api/playbooks', { ...playbook, actions: [] });
      assert.equal(noActions.status, 400);
      assert.equal((await admin('GET', '/api/playbooks')).body.playbooks.length, 0);
    });

    it('runs webhook, disable user and open incident at once, audited, and undoes them', async (t) => {
      if (!ready(t)) return;
      const created = await admin('POST', '/api/playbooks', {
        id: 'contain-brute',
        name: 'Contain a brute force',
        match: { rule_ids: ['brute'], min_severity: 3, techniques: ['T0812'] },
        actions: [
          { type: 'webhook', sink: 'soar' },
          { type: 'disable_user', username: 'mallory' },
          { type: 'open_incident' },
        ],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.created_by, 'soc-admin');
      // Another rule, or a milder one, does not match.
      await raise('other-rule');

      const alertId = await raise('brute');
      const run = await runFor('contain-brute', 'done');
      assert.equal(run.alert_id, alertId);
      assert.deepEqual(
        run.actions.map((a: any) => [a.type, a.status]),
        [
          ['webhook', 'succeeded'],
          ['disable_user', 'succeeded'],
          ['open_incident', 'succeeded'],
        ],
      );
      assert.equal((await admin('GET', '/api/playbook-runs')).body.runs.length, 1, 'other-rule ran nothing');

      // The SOAR got the alert, signed with the sink's key.
      assert.equal(received.length, 1);
      const hook = received[0]!;
      const expected = `sha256=${createHmac('sha256', KEY).update(`${hook.timestamp}.${hook.body}`).digest('hex')}`;
      assert.equal(hook.signature, expected);
      const payload = JSON.parse(hook.body);
      assert.equal(payload.playbook.id, 'contain-brute');
      assert.equal(payload.alert.id, alertId);

      assert.equal((await built.authStore.getUser('mallory'))!.disabled, true);
      const incident = run.actions[2].undo.incident as number;
      const inc = await admin('GET', `/api/incidents/${incident}`);
      assert.equal(inc.status, 200);

      // Undo: the user is enabled again, the incident closed; a webhook cannot be taken back.
      // Giving an account its access back is an admin's call: the analyst is refused.
      const refused = await call(analystToken, 'POST', `/api/playbook-actions/${run.actions[1].id}/undo`);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.equal((await built.authStore.getUser('mallory'))!.disabled, true);
      const undoUser = await admin('POST', `/api/playbook-actions/${run.actions[1].id}/undo`);
      assert.equal(undoUser.status, 200, JSON.stringify(undoUser.body));
      assert.equal(undoUser.body.status, 'undone');
      assert.equal(undoUser.body.undone_by, 'soc-admin');
      assert.equal((await built.authStore.getUser('mallory'))!.disabled, false);
      const again = await admin('POST', `/api/playbook-actions/${run.actions[1].id}/undo`);
      assert.equal(again.status, 409);
      const undoHook = await admin('POST', `/api/playbook-actions/${run.actions[0].id}/undo`);
      assert.equal(undoHook.status, 409);
      assert.match(undoHook.body.error, /cannot be taken back/);
      assert.equal((await admin('POST', `/api/playbook-actions/${run.actions[2].id}/undo`)).status, 200);
      assert.equal((await admin('GET', `/api/incidents/${incident}`)).body.status, 'false_positive');

      const detail = await admin('GET', `/api/playbook-runs/${run.id}`);
      const trail = detail.body.audit.map((e: any) => `${e.actor} ${e.what} ${e.outcome}`).reverse();
      assert.match(trail[0], /triggered running$/);
      assert.equal(trail.filter((t: string) => t === 'central executed ok').length, 3, trail.join('\n'));
      assert.ok(
        trail.includes('soc-admin undo_requested ok') && trail.includes('soc-admin undone ok'),
        trail.join('\n'),
      );
      assert.ok(trail.includes('soc-admin undone failed'), trail.join('\n'));
      // The same alert seen again does not run the playbook twice (one run per alert).
      assert.equal((await admin('GET', '/api/playbook-runs?playbook=contain-brute')).body.runs.length, 1);
    });

    it('a webhook action goes through the sink address guard: the metadata address is refused', async (t) => {
      if (!ready(t)) return;
      const created = await admin('POST', '/api/playbooks', {
        id: 'to-metadata',
        name: 'Post to the metadata service',
        match: { rule_ids: ['metadata-probe'] },
        actions: [{ type: 'webhook', sink: 'metadata' }],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await raise('metadata-probe');
      const run = await waitFor(
        async () => {
          const r = (await admin('GET', '/api/playbook-runs?playbook=to-metadata')).body.runs[0];
          // Until it settles: pending and running come first.
          return ['failed', 'succeeded'].includes(r?.actions[0]?.status) ? r : undefined;
        },
        { timeoutMs: 60_000, what: 'the metadata run' },
      );
      assert.equal(run.actions[0].status, 'failed', JSON.stringify(run.actions[0]));
      assert.match(run.actions[0].error, /refused/);
    });

    it('waits for an analyst: reject does nothing, approve acts, undo restores the token', async (t) => {
      if (!ready(t)) return;
      const created = await admin('POST', '/api/playbooks', {
        id: 'cut-token',
        name: 'Cut the service token',
        approval: true,
        match: { rule_ids: ['token-abuse'] },
        actions: [{ type: 'disable_token', token_id: 't-svc' }],
      });
      assert.equal(created.status, 201);
      await raise('token-abuse', '10.9.8.70');
      const first = await runFor('cut-token', 'pending');
      assert.equal(first.actions[0].status, 'pending');
      const rejected = await call(analystToken, 'POST', `/api/playbook-runs/${first.id}/reject`, {
        reason: 'maintenance window',
      });
      assert.equal(rejected.status, 200);
      assert.equal(rejected.body.status, 'rejected');
      assert.equal(rejected.body.actions[0].status, 'rejected');
      assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 200, 'the token still works');
      assert.equal((await call(analystToken, 'POST', `/api/playbook-runs/${first.id}/approve`)).status, 409);

      await raise('token-abuse', '10.9.8.71');
      const second = await waitFor(
        async () => {
          const run = (await admin('GET', '/api/playbook-runs?playbook=cut-token&status=pending')).body
            .runs[0];
          return run?.actions.length > 0 ? run : undefined;
        },
        { timeoutMs: 60_000, what: 'a second pending run' },
      );
      assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 200);
      const approved = await call(analystToken, 'POST', `/api/playbook-runs/${second.id}/approve`);
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.status, 'done');
      assert.equal(approved.body.decided_by, 'ana');
      assert.equal(approved.body.actions[0].status, 'succeeded');
      assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 401, 'the token is cut');

      const byAnalyst = await call(
        analystToken,
        'POST',
        `/api/playbook-actions/${approved.body.actions[0].id}/undo`,
      );
      assert.equal(byAnalyst.status, 403, 'an analyst cannot give a token its access back');
      assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 401, 'still cut');
      const undone = await admin('POST', `/api/playbook-actions/${approved.body.actions[0].id}/undo`);
      assert.equal(undone.status, 200, JSON.stringify(undone.body));
      assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 200, 'the token works again');
    });

    it('queues a gateway action for an offline gateway, aimed at the alert’s attacker', async (t) => {
      if (!ready(t)) return;
      assert.equal(
        (
          await admin('POST', '/api/playbooks', {
            id: 'block-approved',
            name: 'Block after approval',
            approval: true,
            match: { rule_ids: ['mqtt-brute'], gateways: ['gw-1'] },
            actions: [{ type: 'mqtt_block_address', expire_secs: 3600 }, { type: 'mqtt_block_client' }],
          })
        ).status,
        201,
      );
      // Approval-bound playbooks are never pushed: gw-1's set stays empty.
      await raise('mqtt-brute', '10.9.8.99');
      const run = await runFor('block-approved', 'pending');
      const approved = await admin('POST', `/api/playbook-runs/${run.id}/approve`);
      assert.equal(approved.status, 200);
      assert.equal(approved.body.status, 'running');
      const [address, client] = approved.body.actions;
      assert.equal(address.status, 'queued');
      assert.equal(address.gateway, 'gw-1');
      assert.deepEqual(address.params, { type: 'mqtt_block_address', value: '10.9.8.99', expire_secs: 3600 });
      assert.equal(client.params.type, 'mqtt_block_client');
      assert.match(client.params.value, /^rot-\d+$/);
      // Not done yet: nothing can be undone before the gateway has answered.
      assert.equal((await admin('POST', `/api/playbook-actions/${address.id}/undo`)).status, 409);
    });
  });
