/**
 * The gateway↔central link end to end, with real servers on real sockets and central on a real
 * PostgreSQL: delivery and acks, buffering while central is down and catching up after, no
 * duplicates in storage, refusal of bad tokens, and the server side of the protocol (SPEC §2, §4).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { decodeLinkMessage, encodeLinkMessage, type LinkMessage } from '../../protocols/link/codec.ts';
import { waitFor } from '../support/env.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { startTestCentral, startTestGateway, type TestCentral } from '../support/stack.ts';

function pending(message: string, kind: PendingEvent['kind'] = 'telemetry'): PendingEvent {
  const now = new Date().toISOString();
  return {
    ts: now,
    received: now,
    source: 'syslog',
    kind,
    action: 'syslog.message',
    severity: 5,
    message,
    fields: {},
    tags: [],
  };
}

/** A raw protocol client, to speak to central the way a (possibly broken) gateway would. */
async function rawClient(url: string, token: string) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const inbox: LinkMessage[] = [];
  ws.on('message', (data) => {
    const decoded = decodeLinkMessage(data.toString());
    if (decoded.ok) inbox.push(decoded.message);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    send: (m: LinkMessage) => ws.send(encodeLinkMessage(m)),
    next: (type: LinkMessage['type']) =>
      waitFor(
        () => {
          const i = inbox.findIndex((m) => m.type === type);
          return i >= 0 ? inbox.splice(i, 1)[0] : undefined;
        },
        { what: `a ${type} message` },
      ),
    closed,
    close: () => ws.close(),
  };
}

describe('link: gateway → central on PostgreSQL', () => {
  let db: TempDatabase | undefined;
  let c: TestCentral;

  before(async (t) => {
    db = await requirePostgres(t as never);
  });
  after(async () => {
    await c?.central.stop();
    await db?.drop();
  });

  it('delivers queued events, and the gateway deletes them once acked', async (t) => {
    if (!db) return t.skip('PostgreSQL not available');
    c = await startTestCentral({ type: 'postgres', url: db.url });
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, gatewayToken: c.gatewayToken },
      { syslog: false },
    );
    try {
      await gw.gateway.queue.append(Array.from({ length: 250 }, (_, i) => pending(`delivery ${i}`)));
      const events = await waitFor(
        async () => {
          const found = await c.events('q=delivery');
          return found.length === 250 ? found : undefined;
        },
        { what: '250 events in central' },
      );
      assert.deepEqual(
        events.map((e) => e.seq).sort((a, b) => a - b),
        Array.from({ length: 250 }, (_, i) => i + 1),
      );
      await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined), {
        what: 'an empty queue',
      });
      const metrics = await (await fetch(`${gw.gateway.httpUrl()}/metrics`)).text();
      assert.match(metrics, /siem_gateway_link_events_acked_total\{gateway="gw-test"\} 250/);
      const health = (await (await fetch(`${gw.gateway.httpUrl()}/healthz`)).json()) as {
        link: { connected: boolean };
      };
      assert.equal(health.link.connected, true);
    } finally {
      await gw.stop();
    }
  });

  it('buffers while central is down and catches up after, storing nothing twice', async (t) => {
    if (!db) return t.skip('PostgreSQL not available');
    const port = new URL(c.central.url()).port;
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, gatewayToken: c.gatewayToken },
      { syslog: false },
    );
    try {
      await gw.gateway.queue.append([pending('outage before')]);
      await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined));
      await c.central.stop();
      await waitFor(() => (gw.gateway.forwarder.connected ? undefined : true), { what: 'the link to drop' });
      await gw.gateway.queue.append(Array.from({ length: 40 }, (_, i) => pending(`outage during ${i}`)));
      assert.equal(gw.gateway.queue.depth.events, 40, 'events stay on disk while central is down');

      c = await startTestCentral(
        { type: 'postgres', url: db.url },
        { listen: `127.0.0.1:${port}`, gatewayToken: c.gatewayToken },
      );
      await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined), {
        what: 'the backlog to drain',
        timeoutMs: 15_000,
      });
      const during = await c.events('q=outage%20during');
      assert.equal(during.length, 40);
      assert.equal(new Set(during.map((e) => e.id)).size, 40);
      assert.equal((await c.events('q=outage%20before')).length, 1);
    } finally {
      await gw.stop();
    }
  });

  it('refuses a gateway with a wrong token before any WebSocket exists', async (t) => {
    if (!db) return t.skip('PostgreSQL not available');
    const ws = new WebSocket(c.central.linkUrl(), {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    ws.on('error', () => {}); // terminate() below aborts the handshake; that error is expected.
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    ws.terminate();
    assert.equal(status, 401);
  });

  it('speaks the protocol: hello/welcome, idempotent resend, per-event rejection, heartbeat echo', async (t) => {
    if (!db) return t.skip('PostgreSQL not available');
    const client = await rawClient(c.central.linkUrl(), c.gatewayToken);
    client.send({ type: 'hello', v: 1, gateway: c.gatewayId, sent_at: Date.now() });
    const welcome = await client.next('welcome');
    assert.equal(welcome.type === 'welcome' && welcome.v, 1);

    const now = new Date().toISOString();
    const base = {
      v: 1,
      gateway: c.gatewayId,
      ts: now,
      received: now,
      source: 'syslog',
      kind: 'telemetry',
      action: 'syslog.message',
      severity: 6,
      fields: {},
      tags: [],
    };
    const events = [
      { ...base, id: `${c.gatewayId}:900001`, seq: 900001, message: 'raw one' },
      { ...base, id: `${c.gatewayId}:900002`, seq: 900002, message: 'raw two' },
    ];
    client.send({ type: 'batch', batch_id: 1, events });
    assert.deepEqual(await client.next('ack'), {
      type: 'ack',
      batch_id: 1,
      inserted: 2,
      duplicates: 0,
      rejected: 0,
    });
    client.send({ type: 'batch', batch_id: 2, events });
    assert.deepEqual(await client.next('ack'), {
      type: 'ack',
      batch_id: 2,
      inserted: 0,
      duplicates: 2,
      rejected: 0,
    });

    const bad = [
      { ...base, id: 'other-gw:1', gateway: 'other-gw', seq: 1, message: 'spoofed gateway' },
      { ...base, id: `${c.gatewayId}:900003`, seq: 900003, message: 'bad severity', severity: 9 },
      { ...base, id: `${c.gatewayId}:5`, seq: 900004, message: 'id does not match seq' },
      { ...base, id: `${c.gatewayId}:900005`, seq: 900005, message: 'raw five' },
    ];
    client.send({ type: 'batch', batch_id: 3, events: bad });
    assert.deepEqual(await client.next('ack'), {
      type: 'ack',
      batch_id: 3,
      inserted: 1,
      duplicates: 0,
      rejected: 3,
    });
    assert.equal((await c.events('q=raw')).length, 3);

    client.send({ type: 'heartbeat', sent_at: 12345 });
    const beat = await client.next('heartbeat');
    assert.equal(beat.type === 'heartbeat' && beat.echo, 12345);
    client.close();
  });

  it('closes with an error when hello names another gateway or an unknown version', async (t) => {
    if (!db) return t.skip('PostgreSQL not available');
    const spoof = await rawClient(c.central.linkUrl(), c.gatewayToken);
    spoof.send({ type: 'hello', v: 1, gateway: 'someone-else', sent_at: Date.now() });
    const error = await spoof.next('error');
    assert.equal(error.type === 'error' && error.code, 'unauthorized');
    assert.equal(await spoof.closed, 1008);

    const future = await rawClient(c.central.linkUrl(), c.gatewayToken);
    future.send({ type: 'hello', v: 2, gateway: c.gatewayId, sent_at: Date.now() });
    const versionError = await future.next('error');
    assert.equal(versionError.type === 'error' && versionError.code, 'unsupported_version');
  });

  it('requires the API token and validates query parameters', async (t) => {
    if (!db) return t.skip('PostgreSQL not available');
    const anonymous = await fetch(`${c.central.url()}/api/events`);
    assert.equal(anonymous.status, 401);
    assert.equal((await c.api('/api/events?severity_max=9')).status, 400);
    assert.equal((await c.api('/api/events?colour=blue')).status, 400);
    assert.equal((await c.api('/api/events?cursor=garbage')).status, 400);
    assert.equal((await c.api('/api/events?from=yesterday')).status, 400);
    const health = await fetch(`${c.central.url()}/healthz`);
    assert.equal(health.status, 200);
  });
});
