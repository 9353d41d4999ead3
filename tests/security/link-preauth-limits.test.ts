/**
 * Issue 15 item 4, the limits themselves (link SPEC §2.5 and §3): before the hello verifies a
 * frame over LINK_MAX_HELLO_BYTES closes the connection at once; after it, full-size frames are
 * accepted on that socket; unauthenticated connections are capped in total and per address, and
 * each one is closed when it has not authenticated within link.hello_timeout_secs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import { LINK_MAX_HELLO_BYTES } from '../../protocols/link/codec.ts';
import { waitFor } from '../support/env.ts';
import { rawClient } from '../support/link-client.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';

/** A WebSocket to the link from `localAddress`, with its close code once closed. */
async function open(url: string, localAddress = '127.0.0.1') {
  const ws = new WebSocket(url, { localAddress });
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const challenged = new Promise<boolean>((resolve) => {
    ws.once('message', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
  return { ws, closed, challenged };
}

const errorsOf = async (c: TestCentral, code: string) => {
  const text = await (await fetch(`${c.central.url()}/metrics`)).text();
  const line = text.match(new RegExp(`^siem_central_errors_total\\{[^}]*code="${code}"\\} (\\d+)`, 'm'));
  return Number(line?.[1] ?? 0);
};

describe('link limits before authentication (issue 15 item 4)', () => {
  let c: TestCentral;
  before(async () => {
    c = await startTestCentral(
      { type: 'pglite' },
      { link: { max_pending_connections: 3, max_pending_connections_per_address: 2, hello_timeout_secs: 1 } },
    );
  });
  after(async () => {
    await c.central.stop();
  });

  it('closes an unauthenticated connection at once on a frame over the pre-hello limit', async () => {
    const peer = await open(c.central.linkUrl());
    assert.equal(await peer.challenged, true);
    const started = Date.now();
    peer.ws.send('x'.repeat(LINK_MAX_HELLO_BYTES + 1));
    const code = await peer.closed;
    assert.ok([1006, 1009].includes(code), `closed with ${code}`);
    assert.ok(Date.now() - started < 1000, 'cut off at once, not at the hello timeout');
    await waitFor(async () => ((await errorsOf(c, 'unauthenticated_frame')) >= 1 ? true : undefined));
  });

  it('accepts full-size frames once the gateway has authenticated', async () => {
    const client = await rawClient(c.central.linkUrl());
    await client.hello(c.gatewayId, c.privateKey);
    await client.next('welcome');
    const now = new Date().toISOString();
    const events: Event[] = Array.from({ length: 500 }, (_, i) => ({
      v: EVENT_SCHEMA_VERSION,
      id: `${c.gatewayId}:${i + 1}`,
      gateway: c.gatewayId,
      seq: i + 1,
      ts: now,
      received: now,
      source: 'syslog',
      kind: 'telemetry',
      action: 'syslog.message',
      severity: 6,
      message: 'y'.repeat(2000),
      fields: {},
      tags: [],
    }));
    client.send({ type: 'batch', batch_id: 1, events }); // about 1.1 MB in one frame
    const ack = await client.next('ack');
    assert.equal(ack.inserted, 500);
    client.close();
    await client.closed;
  });

  it('caps unauthenticated connections per address and in total, and times them out', async () => {
    const url = c.central.linkUrl();
    const a1 = await open(url, '127.0.0.1');
    const a2 = await open(url, '127.0.0.1');
    assert.equal(await a1.challenged, true);
    assert.equal(await a2.challenged, true);
    const a3 = await open(url, '127.0.0.1');
    assert.equal(await a3.closed, 1013, 'a third pending connection from one address is turned away');
    const b1 = await open(url, '127.0.0.2');
    assert.equal(await b1.challenged, true, 'another address still gets in');
    const c1 = await open(url, '127.0.0.3');
    assert.equal(await c1.closed, 1013, 'a fourth pending connection in all is turned away');
    // None of them says hello: each is closed by the hello timeout (1 s here).
    const started = Date.now();
    await Promise.all([a1.closed, a2.closed, b1.closed]);
    assert.ok(Date.now() - started < 5000, 'closed by the hello timeout');
    assert.ok((await errorsOf(c, 'hello_timeout')) >= 3);
    // Their slots are free again.
    const again = await open(url, '127.0.0.1');
    assert.equal(await again.challenged, true);
    again.ws.terminate();
  });
});
