/**
 * Response playbooks over the link, end to end on real servers (issue 21 ask 4, link SPEC §9):
 * central (PGlite) pushes an approval-free playbook to a gateway with its embedded MQTT broker and
 * rules/ics; the link goes down (central stops); the demo's rotating-id brute force from
 * 127.0.0.66 (a real mqtt.js client) raises the brute-force alert on the gateway, whose playbook
 * blocks the address at once: the right password is refused from there and still accepted from
 * elsewhere. The block survives a gateway restart. When central is back, the gateway's audit
 * events become a run of the playbook with its action and outcome; an analyst's undo goes to the
 * gateway as a command, the address can log in again, and the undo is audited. A central run that
 * needs approval sends its block as a command once approved; the gateway's answer completes it;
 * an admin lifts that block on the gateway's own API and central marks the action undone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { MqttClient } from 'mqtt';
import { mqttBruteForce } from '../../demo/scenarios/mqtt.ts';
import type { PlantTargets } from '../../demo/scenarios/types.ts';
import { hashPassword } from '../../gateway/sources/mqtt-broker/password.ts';
import { freePort, REPO_ROOT, waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral, type TestGateway } from '../support/stack.ts';

const ATTACKER = '127.0.0.66';
const BRUTE_FORCE = '2f3c1a70-0d0b-4c77-9a0e-6b1f6c8e1a19';
const ROTATING_IDS = '2f3c1a70-0d0b-4c77-9a0e-6b1f6c8e1a4c';
const LONG = { timeoutMs: 120_000, intervalMs: 100 };

/** One CONNECT from `from` with th-01's right password: the CONNACK code (0 accepted), -1 on a drop. */
function login(port: number, from: string): Promise<number> {
  return new Promise((resolve) => {
    const c = new MqttClient(() => net.connect({ host: '127.0.0.1', port, localAddress: from }), {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      clientId: `th-01-${Math.random().toString(36).slice(2, 8)}`,
      username: 'th-01',
      password: 'sensor-pass',
    });
    const done = (code: number) => {
      c.end(true);
      resolve(code);
    };
    c.once('connect', () => done(0));
    c.once('error', (e: Error & { code?: number }) => done(typeof e.code === 'number' ? e.code : -1));
    c.once('close', () => done(-1));
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
describe('response playbooks over the link', () => {
  const centralDir = mkdtempSync(path.join(tmpdir(), 'siem-pb-central-'));
  const gatewayDir = mkdtempSync(path.join(tmpdir(), 'siem-pb-gw-'));
  let c: TestCentral | undefined;
  let gw: TestGateway | undefined;
  after(async () => {
    await gw?.stop();
    await c?.central.stop();
    rmSync(centralDir, { recursive: true, force: true });
    rmSync(gatewayDir, { recursive: true, force: true });
  });

  it('blocks a local brute force with the link down, keeps it across a restart, reports it and undoes it', async () => {
    const listen = `127.0.0.1:${await freePort()}`;
    c = await startTestCentral({ type: 'pglite', data_dir: centralDir }, { listen });
    const call = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${c!.central.url()}${p}`, {
        method,
        headers: { authorization: `Bearer ${c!.apiToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    };
    const link = { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey };
    const mqttPort = await freePort();
    const gatewayOptions = {
      dataDir: gatewayDir,
      keepData: true,
      detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
      sources: {
        mqtt_in: {
          type: 'mqtt_broker',
          listen: `127.0.0.1:${mqttPort}`,
          users: [
            {
              username: 'th-01',
              password_hash: await hashPassword('sensor-pass', { N: 4096, r: 8, p: 1 }),
              publish: ['plant/#'],
            },
          ],
          // The broker's own brute-force block is off: what blocks here is the playbook.
          rates: { block_secs: 0 },
        },
      },
    };
    gw = await startTestGateway(link, gatewayOptions);
    const gatewayAdmin = gw.admin;
    await waitFor(() => (gw!.gateway.forwarder.connected ? true : undefined), { ...LONG, what: 'link up' });

    const created = await call('POST', '/api/playbooks', {
      id: 'edge-block',
      name: 'Block MQTT brute-forcers at the edge',
      match: { rule_ids: [BRUTE_FORCE, ROTATING_IDS] },
      actions: [{ type: 'mqtt_block_address', expire_secs: 86_400 }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const state = await waitFor(
      async () => {
        const s = (await call('GET', '/api/playbook-gateways')).body.gateways[0];
        return s && s.ok === true && s.running_version === s.assigned_version ? s : undefined;
      },
      { ...LONG, what: 'the gateway running the pushed playbooks' },
    );
    assert.equal(gw.gateway.playbooks.version(), state.assigned_version);
    assert.equal(gw.gateway.playbooks.running()?.playbooks[0]?.id, 'edge-block');
    assert.equal(await login(mqttPort, ATTACKER), 0, 'the right password works before the attack');

    // The link goes down; the gateway detects and acts on its own.
    await c.central.stop();
    await waitFor(() => (gw!.gateway.forwarder.connected ? undefined : true), { ...LONG, what: 'link down' });
    const targets = {
      attackerAddress: ATTACKER,
      mqtt: { host: '127.0.0.1', port: mqttPort, stolen: { id: 'th-01', password: 'sensor-pass' } },
    } as unknown as PlantTargets;
    await mqttBruteForce.run(targets);
    const entry = await waitFor(
      () => gw!.gateway.controls.list().find((e) => e.type === 'mqtt_block_address' && e.value === ATTACKER),
      { ...LONG, what: 'the playbook blocking the attacker' },
    );
    assert.equal(entry.by, 'playbook:edge-block');
    assert.ok(entry.expires_at && Date.parse(entry.expires_at) > Date.now() + 3600_000);
    assert.equal(await login(mqttPort, ATTACKER), 5, 'refused (CONNACK 5) while blocked');
    assert.equal(await login(mqttPort, '127.0.0.1'), 0, 'another address still logs in');

    // A restart keeps the block (and the playbook set), still offline.
    await gw.stop();
    // (A restart prints no password: the admin of the first start logs in.)
    gw = await startTestGateway(link, { ...gatewayOptions, admin: gatewayAdmin });
    assert.equal(gw.gateway.playbooks.version(), state.assigned_version);
    assert.equal(await login(mqttPort, ATTACKER), 5, 'still refused after a restart');

    // Central is back: the gateway's report becomes a run with its action and outcome.
    c = await startTestCentral(
      { type: 'pglite', data_dir: centralDir },
      { listen, privateKey: c.privateKey },
    );
    const run = await waitFor(
      async () => {
        const runs = (await call('GET', '/api/playbook-runs?playbook=edge-block')).body.runs as any[];
        return runs.find(
          (r) => r.trigger === 'gateway' && r.actions.some((a: any) => a.status === 'succeeded'),
        );
      },
      { ...LONG, what: "the gateway's local run reported to central" },
    );
    assert.equal(run.gateway, c.gatewayId);
    const action = run.actions.find((a: any) => a.status === 'succeeded');
    assert.equal(action.type, 'mqtt_block_address');
    assert.equal(action.params.value, ATTACKER);
    assert.equal(action.undo.entry, entry.id);
    // The edge alert reached central too: central's own run leaves the gateway action to the edge.
    const centralRun = await waitFor(
      async () => {
        const runs = (await call('GET', '/api/playbook-runs?playbook=edge-block')).body.runs as any[];
        return runs.find((r) => r.trigger === 'central' && r.actions.length > 0);
      },
      { ...LONG, what: "central's run of the edge alert" },
    );
    assert.deepEqual(
      centralRun.actions.map((a: any) => a.status),
      ['edge'],
    );

    const undo = await call('POST', `/api/playbook-actions/${action.id}/undo`);
    assert.equal(undo.status, 200, JSON.stringify(undo.body));
    await waitFor(
      async () => {
        const detail = (await call('GET', `/api/playbook-runs/${run.id}`)).body;
        return detail.actions.find((a: any) => a.id === action.id)?.status === 'undone' ? detail : undefined;
      },
      { ...LONG, what: 'the undo confirmed by the gateway' },
    );
    assert.equal(gw.gateway.controls.list().length, 0);
    assert.equal(await login(mqttPort, ATTACKER), 0, 'the address logs in again after the undo');
    const audit = (await call('GET', `/api/playbook-runs/${run.id}`)).body.audit.map(
      (e: any) => `${e.actor} ${e.what} ${e.outcome}`,
    );
    assert.ok(audit.includes(`gateway:${c.gatewayId} executed ok`), audit.join('\n'));
    assert.ok(audit.includes('test undo_requested ok'), audit.join('\n'));
    assert.ok(audit.includes(`gateway:${c.gatewayId} undone ok`), audit.join('\n'));

    // A central-triggered run: approved by an analyst, sent as a command, answered, undone.
    const OTHER = '127.0.0.77';
    assert.equal(
      (
        await call('POST', '/api/playbooks', {
          id: 'approve-block',
          name: 'Block a named address after approval',
          approval: true,
          match: { rule_ids: ['manual-block'] },
          actions: [{ type: 'mqtt_block_address', address: OTHER, source: 'mqtt_in' }],
        })
      ).status,
      201,
    );
    const raised = await call('POST', '/api/alerts', {
      rule: { id: 'manual-block', title: 'Analyst: block this address', level: 'high' },
      entity: { host: 'broker', gateway: c.gatewayId },
    });
    assert.equal(raised.status, 201, JSON.stringify(raised.body));
    const pending = await waitFor(
      async () =>
        (await call('GET', '/api/playbook-runs?playbook=approve-block&status=pending')).body.runs[0],
      { ...LONG, what: 'the pending central run' },
    );
    assert.equal(gw.gateway.controls.list().length, 0, 'nothing before approval');
    assert.equal((await call('POST', `/api/playbook-runs/${pending.id}/approve`)).status, 200);
    const done = await waitFor(
      async () => {
        const r = (await call('GET', `/api/playbook-runs/${pending.id}`)).body;
        return r.status === 'done' ? r : undefined;
      },
      { ...LONG, what: 'the command answered by the gateway' },
    );
    const commanded = done.actions[0];
    assert.equal(commanded.status, 'succeeded');
    const block = gw.gateway.controls.get(commanded.undo.entry);
    assert.deepEqual(
      [block?.value, block?.source, block?.by],
      [OTHER, 'mqtt_in', `central:a-${commanded.id}`],
    );
    assert.equal(await login(mqttPort, OTHER), 5, 'the commanded block holds');
    // An admin at the plant lifts it on the gateway's own API; central learns of it.
    const local = (await (await gw.api('/api/response')).json()) as any;
    assert.deepEqual(
      local.entries.map((e: any) => e.value),
      [OTHER],
    );
    assert.equal(local.playbooks[0].id, 'edge-block');
    const lifted = await gw.api(`/api/response/${commanded.undo.entry}`, { method: 'DELETE' });
    assert.equal(lifted.status, 200);
    assert.equal(await login(mqttPort, OTHER), 0);
    const undoneHere = await waitFor(
      async () => {
        const r = (await call('GET', `/api/playbook-runs/${pending.id}`)).body;
        return r.actions[0].status === 'undone' ? r.actions[0] : undefined;
      },
      { ...LONG, what: 'central marking the action undone on the gateway' },
    );
    assert.equal(undoneHere.undone_by, `gateway:${c.gatewayId}/${gatewayAdmin.username}`);
  });
});
