/**
 * Issue 15 item 15: `GET /api/stream` over real HTTP on 127.0.0.1. Streams are capped per user
 * and in total, the one too many refused with a 429 and a JSON error naming the limit, and a
 * closed stream frees its slot. A client that connects and then stops reading (a raw socket,
 * paused) while large alerts pour in keeps at most `max_queued_messages` queued, the rest
 * dropped and counted, and when it reads again it is told how many it lost in a `dropped`
 * event; one that stays stalled past `stall_timeout_secs` is disconnected and its slot freed.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Alert } from '../../central/alerts/types.ts';
import { createLiveHub, streamApi } from '../../central/api/stream.ts';
import { createStreamSlots, type StreamConfig } from '../../central/api/stream-limits.ts';
import { createCentralMetrics } from '../../central/metrics.ts';
import type { AuthIdentity } from '../../server-shared/web-auth/permissions.ts';
import { waitFor } from '../support/env.ts';

const identity = (username: string): AuthIdentity => ({
  kind: 'session',
  username,
  actor: username,
  role: 'analyst',
  permissions: new Set(['read']),
  totpEnrollmentPending: false,
});

/** A distinct alert of about `bytes` of JSON, so that each queued one costs real memory. */
function bigAlert(n: number, bytes = 16_384): Alert {
  return {
    id: n,
    rule_id: 'r-big',
    rule_title: 'x'.repeat(bytes),
    enrichment: null,
    severity: 3,
    techniques: [],
    tags: [],
    entity_type: 'host',
    entity: `h-${n}`,
    device_id: null,
    host: `h-${n}`,
    gateway: 'gw',
    site: null,
    event_ids: [],
    count: 1,
    first_seen: '2026-03-01T10:00:00.000Z',
    last_seen: '2026-03-01T10:00:00.000Z',
    status: 'new',
    assignee: null,
    created_at: '2026-03-01T10:00:00.000Z',
    updated_at: '2026-03-01T10:00:00.000Z',
  };
}

async function startServer(limits: Partial<StreamConfig>) {
  const changes = new EventEmitter<{ alert: [Alert] }>();
  const metrics = createCentralMetrics({ processMetrics: false });
  const hub = createLiveHub({ changes, metrics, connections: () => [], statsIntervalMs: 60_000 });
  const slots = createStreamSlots({ max_streams: 100, max_streams_per_user: 100, ...limits });
  const app = new Hono();
  // Stands in for web-auth: the user is named by a test header.
  app.use('/api/*', async (c, next) => {
    c.set('auth', identity(c.req.header('x-test-user') ?? 'alice'));
    await next();
  });
  app.route('/api', streamApi(hub, { ...limits, slots, heartbeatMs: 60_000 }));
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    changes,
    slots,
    url: `http://127.0.0.1:${port}/api/stream`,
    port,
    async stop() {
      hub.stop();
      (server as http.Server).closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A real HTTP client that reads the first chunk and then holds the stream open. */
async function open(url: string, user: string) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { 'x-test-user': user }, signal: controller.signal });
  if (res.status === 200) {
    const reader = res.body!.getReader();
    await reader.read(); // ": connected"
    return { res, close: () => controller.abort() };
  }
  return { res, close: () => controller.abort() };
}

/** A raw socket that sends the request, reads up to `: connected`, then reads nothing until `resume()`. */
async function stalledClient(port: number, user: string) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let received = '';
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let stalled = false;
  const connected = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (!stalled && received.includes(': connected')) {
        stalled = true;
        socket.pause();
        resolve();
      }
    });
  });
  socket.write(`GET /api/stream HTTP/1.1\r\nhost: 127.0.0.1\r\nx-test-user: ${user}\r\n\r\n`);
  await connected;
  return {
    socket,
    closed,
    received: () => received,
    resume: () => socket.resume(),
  };
}

describe('GET /api/stream limits over real HTTP', () => {
  const servers: Array<{ stop(): Promise<void> }> = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('caps streams per user and in total with a 429 and a JSON error; a closed stream frees its slot', async () => {
    const srv = await startServer({ max_streams: 3, max_streams_per_user: 2 });
    servers.push(srv);
    const a1 = await open(srv.url, 'alice');
    const a2 = await open(srv.url, 'alice');
    assert.equal(a1.res.status, 200);
    assert.equal(a2.res.status, 200);
    const a3 = await open(srv.url, 'alice');
    assert.equal(a3.res.status, 429);
    assert.match(a3.res.headers.get('content-type') ?? '', /application\/json/);
    assert.match(((await a3.res.json()) as { error: string }).error, /max_streams_per_user/);

    const b1 = await open(srv.url, 'bob');
    assert.equal(b1.res.status, 200, 'another user still gets one');
    const c1 = await open(srv.url, 'carol');
    assert.equal(c1.res.status, 429);
    assert.match(((await c1.res.json()) as { error: string }).error, /at most 3 .*max_streams\)/);

    a1.close();
    await waitFor(() => (srv.slots.list().length === 2 ? true : undefined), { what: 'the slot freed' });
    const a4 = await open(srv.url, 'alice');
    assert.equal(a4.res.status, 200);
    for (const s of [a2, b1, a4]) s.close();
    await waitFor(() => (srv.slots.list().length === 0 ? true : undefined), { what: 'every slot freed' });
  });

  it('a client that does not read keeps a bounded queue, and is told what it lost', async () => {
    const maxQueued = 50;
    const srv = await startServer({ max_queued_messages: maxQueued, stall_timeout_secs: 120 });
    servers.push(srv);
    const client = await stalledClient(srv.port, 'slow');
    // 2,000 alerts of 16 KiB (32 MiB): far more than the socket buffers hold.
    let maxQueue = 0;
    for (let i = 1; i <= 2000; i++) {
      srv.changes.emit('alert', bigAlert(i));
      maxQueue = Math.max(maxQueue, srv.slots.list()[0]?.queued ?? 0);
      if (i % 100 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    client.resume();
    // The newest alert is delivered: the oldest were the ones dropped.
    await waitFor(() => (client.received().includes('"id":2000,') ? true : undefined), {
      what: 'the last alert',
      timeoutMs: 20_000,
    });
    // Every drop is reported in-stream, and each alert was either delivered or counted.
    const reports = [...client.received().matchAll(/event: dropped\ndata: (\{[^\n]*\})/g)].map(
      (m) => JSON.parse(m[1]!) as { dropped: number; dropped_total: number },
    );
    assert.ok(reports.length > 0, 'no dropped event');
    const dropped = reports.reduce((sum, r) => sum + r.dropped, 0);
    assert.ok(dropped > 1000, `dropped ${dropped}`);
    assert.equal(reports.at(-1)!.dropped_total, dropped);
    const delivered = [...client.received().matchAll(/event: alert\n/g)].length;
    assert.equal(delivered + dropped, 2000, 'each alert delivered or counted as dropped');
    // What was held for the client never exceeded the bound.
    const slot = srv.slots.list()[0];
    assert.equal(slot?.dropped, dropped);
    assert.ok(maxQueue > 0 && maxQueue <= maxQueued, `queue reached ${maxQueue}`);
    client.socket.destroy();
    await waitFor(() => (srv.slots.list().length === 0 ? true : undefined), { what: 'the slot freed' });
  });

  it('disconnects a client stalled past stall_timeout_secs and frees its slot', async () => {
    const srv = await startServer({
      max_streams_per_user: 1,
      max_queued_messages: 20,
      stall_timeout_secs: 0.5,
    });
    servers.push(srv);
    const client = await stalledClient(srv.port, 'stuck');
    assert.equal((await open(srv.url, 'stuck')).res.status, 429, 'its one slot is taken');
    // Enough to fill the socket buffers, so that a write hangs.
    for (let i = 1; i <= 1000; i++) {
      srv.changes.emit('alert', bigAlert(i));
      if (i % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await waitFor(() => (srv.slots.list().length === 0 ? true : undefined), { what: 'the slot freed' });
    // Its connection is gone too (a paused socket sees the end only once it reads again).
    client.resume();
    await client.closed;
    const again = await open(srv.url, 'stuck');
    assert.equal(again.res.status, 200);
    again.close();
  });
});
