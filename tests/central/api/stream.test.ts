/**
 * Central's live stream, `GET /api/stream` (central/api/stream.ts; server-shared/web-auth/SPEC.md §5):
 * in-process, the hub and the route with a test identity: 401 without one, 403 without `read`,
 * server-sent `alert`, `stats` (rates computed from the stored-events counter over the interval,
 * per gateway), `gateway` connects/disconnects, the heartbeat comment when idle, and no listener
 * left once the client goes. Then through a real central (PGlite): an alert raised and its status
 * changed through the API each arrive as an `alert` event; an API token without `read` is refused.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import type { Alert } from '../../../central/alerts/types.ts';
import { createLiveHub, streamApi } from '../../../central/api/stream.ts';
import type { GatewayConnection } from '../../../central/link/server.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import type { AuthIdentity } from '../../../server-shared/web-auth/permissions.ts';
import type { Permission } from '../../../server-shared/web-auth/types.ts';
import { waitFor } from '../../support/env.ts';
import { startTestCentral, type TestCentral } from '../../support/stack.ts';

interface SseMessage {
  event: string;
  data: string;
  comment?: string;
}

/** Reads server-sent events (WHATWG HTML §9.2) from a response body, collecting them as they come. */
function collect(res: Response) {
  const messages: SseMessage[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const done = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) return;
        buffer += decoder.decode(value, { stream: true });
        for (let i = buffer.indexOf('\n\n'); i !== -1; i = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const lines = block.split('\n');
          const comment = lines.find((l) => l.startsWith(':'));
          messages.push({
            event:
              lines
                .find((l) => l.startsWith('event:'))
                ?.slice(6)
                .trim() ?? (comment ? 'comment' : 'message'),
            data: lines
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trimStart())
              .join('\n'),
            ...(comment && { comment: comment.slice(1).trim() }),
          });
        }
      }
    } catch {
      // cancelled
    }
  })();
  return {
    messages,
    of: (event: string) =>
      messages.filter((m) => m.event === event).map((m) => JSON.parse(m.data) as unknown),
    close: async () => {
      await reader.cancel().catch(() => undefined);
      await done;
    },
  };
}

const identity = (permissions: Permission[]): AuthIdentity => ({
  kind: 'token',
  username: 'tester',
  actor: 'tester',
  role: null,
  permissions: new Set(permissions),
  totpEnrollmentPending: false,
});

const ALERT: Alert = {
  id: 7,
  rule_id: 'r-1',
  rule_title: 'SSH brute force',
  enrichment: null,
  severity: 3,
  techniques: ['T0866'],
  tags: [],
  entity_type: 'host',
  entity: 'hmi-7',
  device_id: null,
  host: 'hmi-7',
  gateway: 'gw-a',
  site: null,
  event_ids: ['gw-a:1'],
  count: 1,
  first_seen: '2026-03-01T10:00:00.000Z',
  last_seen: '2026-03-01T10:00:00.000Z',
  status: 'new',
  assignee: null,
  created_at: '2026-03-01T10:00:00.000Z',
  updated_at: '2026-03-01T10:00:00.000Z',
};

describe('GET /api/stream in-process', () => {
  const changes = new EventEmitter<{ alert: [Alert] }>();
  const metrics = createCentralMetrics({ processMetrics: false });
  const conns: GatewayConnection[] = [];
  const hub = createLiveHub({ changes, metrics, connections: () => conns, statsIntervalMs: 100 });
  const app = new Hono();
  // Stands in for the web-auth middleware: who calls is named by a test header.
  app.use('/api/*', async (c, next) => {
    const as = c.req.header('x-test-as');
    c.set('auth', as === undefined ? undefined : identity(as ? (as.split(',') as Permission[]) : []));
    await next();
  });
  app.route('/api', streamApi(hub, { heartbeatMs: 150 }));
  after(() => hub.stop());

  it('refuses 401 without an identity and 403 without the read permission', async () => {
    assert.equal((await app.request('/api/stream')).status, 401);
    const res = await app.request('/api/stream', { headers: { 'x-test-as': 'alerts,rules' } });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: string }).error, /permission read/);
  });

  it('streams alerts, stats with per-gateway rates, gateway changes and heartbeats', async () => {
    const res = await app.request('/api/stream', { headers: { 'x-test-as': 'read' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const sse = collect(res);
    try {
      await waitFor(() => (sse.of('stats').length > 0 ? true : undefined), { what: 'a first stats event' });

      changes.emit('alert', ALERT);
      changes.emit('alert', { ...ALERT, status: 'acknowledged' });
      const alerts = await waitFor(
        () => (sse.of('alert').length >= 2 ? (sse.of('alert') as Alert[]) : undefined),
        {
          what: 'two alert events',
        },
      );
      assert.deepEqual(alerts[0], ALERT);
      assert.equal(alerts[1]!.status, 'acknowledged');

      // 500 events stored for gw-a: a rate appears for gw-a only, summed into events_per_sec.
      const seen = sse.of('stats').length;
      metrics.inserted.inc({ gateway: 'gw-a' }, 500);
      const stats = await waitFor(
        () =>
          (
            sse.of('stats').slice(seen) as Array<{ events_per_sec: number; gateways: Record<string, number> }>
          ).find((s) => (s.gateways['gw-a'] ?? 0) > 0),
        { what: 'stats with a rate for gw-a' },
      );
      // 500 events over one interval of about 100 ms (timers drift under load: allow half of it),
      // and the total is gw-a's.
      assert.ok(stats.gateways['gw-a']! > 0 && stats.gateways['gw-a']! <= 10_000, JSON.stringify(stats));
      assert.equal(stats.events_per_sec, stats.gateways['gw-a']);

      const connectedAt = new Date();
      conns.push({ gateway: 'gw-b', remote: '127.0.0.1', connectedAt, lastSeen: connectedAt });
      const up = await waitFor(
        () => (sse.of('gateway') as Array<{ gateway: string; connected: boolean }>).find((g) => g.connected),
        { what: 'gateway connected event' },
      );
      assert.equal(up.gateway, 'gw-b');
      await waitFor(
        () =>
          (sse.of('stats') as Array<{ gateways_connected: number }>).at(-1)?.gateways_connected === 1
            ? true
            : undefined,
        { what: 'one gateway connected in stats' },
      );
      conns.pop();
      await waitFor(
        () =>
          (sse.of('gateway') as Array<{ gateway: string; connected: boolean }>).find(
            (g) => g.gateway === 'gw-b' && !g.connected,
          ),
        { what: 'gateway disconnected event' },
      );
    } finally {
      await sse.close();
    }
  });

  it('sends a heartbeat comment when idle, and lets go of the hub when the client leaves', async () => {
    // A hub with slow stats so only the heartbeat (150 ms) keeps the line busy.
    const quiet = createLiveHub({ changes, metrics, connections: () => [], statsIntervalMs: 60_000 });
    const app2 = new Hono();
    app2.use('/api/*', async (c, next) => {
      c.set('auth', identity(['read']));
      await next();
    });
    app2.route('/api', streamApi(quiet, { heartbeatMs: 150 }));
    const before = changes.listenerCount('alert');
    const sse = collect(await app2.request('/api/stream'));
    await waitFor(() => (sse.messages.some((m) => m.comment === 'heartbeat') ? true : undefined), {
      what: 'a heartbeat comment',
    });
    assert.equal(changes.listenerCount('alert'), before + 1, 'subscribed while a client listens');
    await sse.close();
    await waitFor(() => (changes.listenerCount('alert') === before ? true : undefined), {
      what: 'the hub to unsubscribe once the client left',
    });
    quiet.stop();
  });
});

describe('GET /api/stream on a running central', () => {
  let c: TestCentral;
  let base: string;
  before(async () => {
    c = await startTestCentral({ type: 'pglite' });
    base = c.central.url();
  });
  after(async () => {
    await c?.central.stop();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('refuses an anonymous caller and a token without read', async () => {
    assert.equal((await fetch(`${base}/api/stream`)).status, 401);
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(c.admin),
    });
    assert.equal(login.status, 200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const { csrf_token } = (await login.json()) as { csrf_token: string };
    const created = await fetch(`${base}/api/auth/tokens`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf_token, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'no-read', scopes: ['alerts'] }),
    });
    assert.equal(created.status, 201);
    const { token } = (await created.json()) as { token: string };
    const refused = await fetch(`${base}/api/stream`, { headers: bearer(token) });
    assert.equal(refused.status, 403);
  });

  it('sends an alert event for a new alert and for its status change', async () => {
    const res = await fetch(`${base}/api/stream`, { headers: bearer(c.apiToken) });
    assert.equal(res.status, 200);
    const sse = collect(res);
    try {
      await waitFor(() => (sse.of('stats').length > 0 ? true : undefined), { what: 'stats (subscribed)' });
      const raised = await c.central.alerts.raise({
        rule: { id: 'r-stream', title: 'Stream probe', level: 'high', techniques: ['T0836'], tags: [] },
        entity: { host: 'plc-stream', gateway: 'gw-test' },
        event_ids: ['gw-test:1'],
        at: new Date().toISOString(),
      });
      const id = raised.alert!.id;
      const created = await waitFor(
        () => (sse.of('alert') as Alert[]).find((a) => a.id === id && a.status === 'new'),
        { what: 'the new alert on the stream' },
      );
      assert.equal(created.rule_id, 'r-stream');
      assert.equal(created.host, 'plc-stream');
      const patched = await fetch(`${base}/api/alerts/${id}`, {
        method: 'PATCH',
        headers: { ...bearer(c.apiToken), 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'acknowledged' }),
      });
      assert.equal(patched.status, 200, await patched.text());
      const changed = await waitFor(
        () => (sse.of('alert') as Alert[]).find((a) => a.id === id && a.status === 'acknowledged'),
        { what: 'the status change on the stream' },
      );
      assert.equal(changed.rule_id, 'r-stream');
    } finally {
      await sse.close();
    }
  });
});
