/**
 * Incidents through central's API, in process on PGlite: alerts whose triggering events come from
 * one address fold into one incident (a rotating-identity brute force: 16 "new device" alerts and
 * the brute-force alert), another address gets its own, an alert past the window opens a new one;
 * the lifecycle (status, assignee, comment) with its history; the timeline in time order; and
 * with `incident_notify: incident` the webhook sink's outbox holds one notification per incident
 * opening (its first alert), not one per child.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildCentral } from '../../../central/index.ts';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPgliteStore, type EventStore } from '../../../central/store/index.ts';
import { iso, makeEvent } from '../store/fixtures.ts';

const T = Date.parse('2026-03-01T10:00:00.000Z');
const ATTACKER = '10.9.8.66';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
describe('incidents API (PGlite)', () => {
  let store: EventStore;
  let stop: () => Promise<void>;
  let receiver: Server;
  const token = newToken();
  let call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
  let seq = 0;

  before(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    process.env.INCIDENTS_TEST_HOOK_KEY = 'incident-test-hmac-key-0123456789';
    store = await createPgliteStore();
    await store.init(new Date(T));
    const config = centralConfigSchema.parse({
      storage: { type: 'pglite' },
      alerts: { incident_window_secs: 600, incident_notify: 'incident' },
      sinks: {
        soar: {
          type: 'webhook',
          url: `http://127.0.0.1:${port}/hook`,
          // The receiver is on loopback: allowed explicitly past the sink's address guard.
          allow_addresses: ['127.0.0.1'],
          secret_env: 'INCIDENTS_TEST_HOOK_KEY',
        },
      },
    });
    const built = await buildCentral(config, store, {
      metrics: createCentralMetrics({ processMetrics: false }),
      logger: createLogger('silent'),
      apiTokens: [{ name: 'soc-alice', token_sha256: sha256Hex(token) }],
    });
    stop = built.stop;
    call = async (method, path, body) => {
      const res = await built.app.request(path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: await res.json() };
    };
  });
  after(async () => {
    await stop?.();
    await store?.close();
    receiver?.close();
  });

  /** Stores one event from `ip` at `atMs` and raises an alert of `rule` on `device` for it. */
  async function alertFrom(ip: string, atMs: number, rule: string, device: string, user?: string) {
    seq += 1;
    const event = makeEvent('gw-1', seq, iso(atMs), {
      source: 'mqtt',
      kind: 'security',
      action: 'mqtt.connect_refused',
      message: `CONNECT refused for ${device}`,
      src: { ip, port: 40000 + seq },
      device: { id: device },
      fields: user ? { username: user } : {},
    });
    await store.insertEvents([event]);
    const res = await call('POST', '/api/alerts', {
      rule: { id: rule, title: `Rule ${rule}`, level: rule === 'brute' ? 'high' : 'low' },
      entity: { device_id: device, gateway: 'gw-1' },
      event_ids: [event.id],
      at: iso(atMs),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.alert;
  }

  it('folds a rotating-identity brute force into one incident, with its timeline', async () => {
    const children = [];
    for (let i = 0; i < 16; i += 1)
      children.push(await alertFrom(ATTACKER, T + i * 2000, 'new-device', `mqtt:scan-${i}`, `user${i}`));
    children.push(await alertFrom(ATTACKER, T + 33_000, 'brute', 'mqtt-broker'));
    const other = await alertFrom('10.9.8.67', T + 5000, 'new-device', 'mqtt:other');

    const list = await call('GET', `/api/incidents?attacker=${ATTACKER}`);
    assert.equal(list.status, 200);
    assert.equal(list.body.incidents.length, 1);
    const incident = list.body.incidents[0];
    assert.deepEqual(
      [
        incident.attacker_kind,
        incident.alert_count,
        incident.severity,
        incident.first_seen,
        incident.last_seen,
      ],
      ['address', 17, 3, iso(T), iso(T + 33_000)],
    );
    const detail = (await call('GET', `/api/incidents/${incident.id}`)).body;
    assert.deepEqual(
      detail.alerts.map((a: { id: number }) => a.id).sort((a: number, b: number) => a - b),
      children.map((a) => a.id).sort((a, b) => a - b),
    );
    const others = (await call('GET', '/api/incidents?attacker=10.9.8.67')).body.incidents;
    assert.equal(others.length, 1);
    assert.equal(others[0].alert_count, 1);
    assert.notEqual(others[0].id, incident.id);
    assert.ok(!detail.alerts.some((a: { id: number }) => a.id === other.id));

    const timeline = (await call('GET', `/api/incidents/${incident.id}/timeline`)).body.timeline;
    assert.equal(timeline.filter((e: { kind: string }) => e.kind === 'alert').length, 17);
    assert.equal(timeline.filter((e: { kind: string }) => e.kind === 'event').length, 17);
    const times = timeline.map((e: { at: string }) => e.at);
    assert.deepEqual(times, [...times].sort());
    assert.equal(timeline[0].kind, 'event', 'the triggering event comes before its alert');
    assert.equal(timeline[0].src_ip, ATTACKER);
  });

  it('opens a new incident for the same attacker after the window', async () => {
    await alertFrom(ATTACKER, T + 33_000 + 601_000, 'new-device', 'mqtt:late');
    const list = (await call('GET', `/api/incidents?attacker=${ATTACKER}`)).body.incidents;
    assert.deepEqual(
      list.map((i: { alert_count: number }) => i.alert_count),
      [1, 17],
    );
  });

  it('has the alert lifecycle: status, assignee and comments, each in the history', async () => {
    const [incident] = (await call('GET', `/api/incidents?attacker=10.9.8.67`)).body.incidents;
    const patched = await call('PATCH', `/api/incidents/${incident.id}`, {
      status: 'acknowledged',
      assignee: 'bob',
    });
    assert.equal(patched.status, 200);
    assert.deepEqual([patched.body.status, patched.body.assignee], ['acknowledged', 'bob']);
    const comment = await call('POST', `/api/incidents/${incident.id}/comments`, {
      body: 'blocked at the firewall',
    });
    assert.equal(comment.status, 201);
    const detail = (await call('GET', `/api/incidents/${incident.id}`)).body;
    assert.deepEqual(
      detail.history.map((h: { actor: string; change: string; to: string | null }) => [
        h.actor,
        h.change,
        h.to,
      ]),
      [
        ['central', 'opened', 'new'],
        ['central', 'alert', String(detail.alerts[0].id)],
        ['soc-alice', 'status', 'acknowledged'],
        ['soc-alice', 'assignee', 'bob'],
        ['soc-alice', 'comment', String(comment.body.id)],
      ],
    );
    assert.equal((await call('PATCH', '/api/incidents/999999', { status: 'resolved' })).status, 404);
    assert.equal((await call('PATCH', `/api/incidents/${incident.id}`, { status: 'gone' })).status, 400);
    assert.equal((await call('GET', '/api/incidents/abc')).status, 400);
  });

  it('queues one webhook notification per incident opening, not one per child alert', async () => {
    // Openings so far: the brute force, 10.9.8.67, and the late one: three, of 19 alerts. The
    // sinks' durable outbox is written in the alert's transaction (delivery is its own test).
    const { rows } = await store.sql.query<{ alert_id: string | number }>(
      `SELECT alert_id FROM sink_outbox WHERE sink = 'soar' ORDER BY alert_id`,
    );
    const alerts = (await call('GET', '/api/alerts?limit=100')).body.alerts;
    assert.equal(alerts.length, 19);
    const openers = (await call('GET', '/api/incidents')).body.incidents.map((i: { id: number }) => i.id);
    assert.equal(openers.length, 3);
    assert.equal(rows.length, 3, JSON.stringify(rows));
    const firstChild = await Promise.all(
      openers.map(async (id: number) => (await call('GET', `/api/incidents/${id}`)).body.alerts[0].id),
    );
    assert.deepEqual(
      rows.map((r) => Number(r.alert_id)),
      firstChild.sort((a, b) => a - b),
    );
  });
});
