/**
 * The gateway↔central link end to end, with real servers on real sockets and central on a real
 * PostgreSQL: delivery and acks, buffering while central is down and catching up after, no
 * duplicates in storage, the server side of the protocol (SPEC §2, §4), and flow control.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Event } from '../../protocols/event/schema.ts';
import { skipUnmet, waitFor } from '../support/env.ts';
import { LINK_PROTOCOL_VERSION } from '../../protocols/link/codec.ts';
import { pending, rawClient } from '../support/link-client.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { startTestCentral, startTestGateway, type TestCentral } from '../support/stack.ts';

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
    if (!db) return skipUnmet(t);
    c = await startTestCentral({ type: 'postgres', url: db.url });
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
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
      const status = (await (await gw.api('/api/status')).json()) as {
        link: { connected: boolean; clock_offset_ms: number | null };
        queue: { events: number; oldest_unsent_age_secs: number | null; expected_drain_secs: number | null };
      };
      assert.equal(status.link.connected, true);
      assert.equal(status.queue.events, 0);
      assert.equal(status.queue.oldest_unsent_age_secs, null);
      assert.equal(status.queue.expected_drain_secs, 0);
      assert.equal(typeof status.link.clock_offset_ms, 'number', 'a heartbeat measured the offset');
    } finally {
      await gw.stop();
    }
  });

  it('buffers while central is down and catches up after, storing nothing twice', async (t) => {
    if (!db) return skipUnmet(t);
    const port = new URL(c.central.url()).port;
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { syslog: false },
    );
    try {
      await gw.gateway.queue.append([pending('outage before')]);
      await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined));
      await c.central.stop();
      await waitFor(() => (gw.gateway.forwarder.connected ? undefined : true), { what: 'the link to drop' });
      await gw.gateway.queue.append(Array.from({ length: 40 }, (_, i) => pending(`outage during ${i}`)));
      assert.equal(gw.gateway.queue.depth.events, 40, 'events stay on disk while central is down');
      const status = (await (await gw.api('/api/status')).json()) as {
        status: string;
        queue: { oldest_unsent_age_secs: number; expected_drain_secs: number | null };
      };
      assert.equal(status.status, 'degraded');
      assert.ok(status.queue.oldest_unsent_age_secs >= 0);

      c = await startTestCentral(
        { type: 'postgres', url: db.url },
        { listen: `127.0.0.1:${port}`, privateKey: c.privateKey },
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

  it('speaks the protocol: challenge, hello, welcome, idempotent resend, per-event rejection, heartbeat', async (t) => {
    if (!db) return skipUnmet(t);
    const client = await rawClient(c.central.linkUrl());
    await client.hello(c.gatewayId, c.privateKey);
    const welcome = await client.next('welcome');
    assert.equal(welcome.v, 1);

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
    assert.equal(beat.echo, 12345);
    client.close();
  });

  it('corrects gateway-clock timestamps by the measured offset, and keeps device timestamps', async (t) => {
    if (!db) return skipUnmet(t);
    const client = await rawClient(c.central.linkUrl());
    await client.hello(c.gatewayId, c.privateKey);
    await client.next('welcome');
    // A Pi that booted an hour behind: its clock says 1 h ago; central's clock is the truth.
    const skewed = new Date(Date.now() - 3_600_000).toISOString();
    const base = {
      v: 1,
      gateway: c.gatewayId,
      received: skewed,
      clock_offset_ms: -3_600_000,
      source: 'syslog',
      kind: 'telemetry',
      action: 'syslog.message',
      severity: 6,
      fields: {},
      tags: [],
    };
    const device = '2026-01-02T03:04:05.000Z';
    client.send({
      type: 'batch',
      batch_id: 1,
      events: [
        {
          ...base,
          id: `${c.gatewayId}:910001`,
          seq: 910001,
          ts: skewed,
          time_source: 'gateway',
          message: 'clock a',
        },
        {
          ...base,
          id: `${c.gatewayId}:910002`,
          seq: 910002,
          ts: device,
          time_source: 'device',
          message: 'clock b',
        },
      ],
    });
    await client.next('ack');
    client.close();
    const stored = await c.events('q=clock%20');
    const a = stored.find((e: Event) => e.message === 'clock a');
    const b = stored.find((e: Event) => e.message === 'clock b');
    assert.ok(Math.abs(Date.parse(a!.ts) - Date.now()) < 60_000, `corrected ts ${a!.ts} is now-ish`);
    assert.equal(a!.received, skewed, 'the gateway clock is kept in received');
    assert.equal(b!.ts, device, 'device time is kept as the device said');
    const skew = await waitFor(async () => {
      const found = await c.events('source=central&q=clock%20is%20off');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(skew[0]?.action, 'central.clock_skew');
  });

  it('closes with an error on an unsupported version', async (t) => {
    if (!db) return skipUnmet(t);
    const future = await rawClient(c.central.linkUrl());
    // One past the newest version central speaks (SPEC §7).
    await future.hello(c.gatewayId, c.privateKey, LINK_PROTOCOL_VERSION + 1);
    const versionError = await future.next('error');
    assert.equal(versionError.code, 'unsupported_version');
    assert.equal(await future.closed, 1008);
  });

  it('slows a gateway down to the configured rate instead of dropping (flow control)', async (t) => {
    if (!db) return skipUnmet(t);
    const limited = await startTestCentral(
      { type: 'pglite' },
      { gatewayId: 'gw-slow', link: { max_events_per_second_per_gateway: 2000 } },
    );
    const gw = await startTestGateway(
      { linkUrl: limited.central.linkUrl(), gatewayId: 'gw-slow', privateKey: limited.privateKey },
      { syslog: false },
    );
    try {
      await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined));
      const started = Date.now();
      // Twice what the send window holds (4 batches of 1,000): the first 4,000 go at once and book
      // 2 s of central's rate; the rest must wait for that time to pass.
      await gw.gateway.queue.append(Array.from({ length: 8000 }, (_, i) => pending(`rate ${i}`)));
      await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined), { timeoutMs: 20_000 });
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds >= 2.0, `8000 events at 2000/s took ${seconds} s`);
      const central = await (await fetch(`${limited.central.url()}/metrics`)).text();
      assert.match(central, /siem_central_link_events_inserted_total\{gateway="gw-slow"\} 8000/);
      const metrics = await (await fetch(`${gw.gateway.httpUrl()}/metrics`)).text();
      assert.match(metrics, /siem_gateway_link_throttled_total\{gateway="gw-slow"\} [1-9]/);
      assert.match(metrics, /siem_gateway_link_events_acked_total\{gateway="gw-slow"\} 8000/);
      assert.doesNotMatch(metrics, /siem_gateway_events_dropped_total\{/);
    } finally {
      await gw.stop();
      await limited.central.stop();
    }
  });

  it('requires the API token and validates query parameters', async (t) => {
    if (!db) return skipUnmet(t);
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
