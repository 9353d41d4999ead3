/**
 * Central's dashboard aggregates (central/api/overview.ts), in-process on PGlite: a known data set
 * (events over the last hour from three gateways, alerts of several severities, techniques and
 * statuses, one alert outside the range) is stored, and `GET /api/overview?range=1h` is compared
 * with a reference computed here from the same data: histogram buckets, totals, top devices and
 * hosts, alerts by severity, technique and status, gateways enrolled, online, offline and lagging.
 * `GET /api/fleet` reports each gateway's connection, delivery lag and queue depth. Permissions:
 * 401 without an identity, 403 without `read`. Then, on a real central and gateway, the fleet's
 * queue depth by lane is the one the gateway's link heartbeat carries (link SPEC §5.5).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { createAlerts } from '../../../central/alerts/index.ts';
import type { Alert } from '../../../central/alerts/types.ts';
import { LAGGING_MS, OVERVIEW_RANGES, overviewApi } from '../../../central/api/overview.ts';
import { createLiveHub } from '../../../central/api/stream.ts';
import { createGatewayRegistry } from '../../../central/gateways/registry.ts';
import type { GatewayConnection } from '../../../central/link/server.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPgliteStore, type EventStore } from '../../../central/store/index.ts';
import type { Overview } from '../../../protocols/api/central.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import { generateGatewayKeys } from '../../../protocols/link/auth.ts';
import type { AuthIdentity } from '../../../server-shared/web-auth/permissions.ts';
import type { Permission } from '../../../server-shared/web-auth/types.ts';
import { waitFor } from '../../support/env.ts';
import { startTestCentral, startTestGateway } from '../../support/stack.ts';
import { makeEvent } from '../store/fixtures.ts';

const identity = (permissions: Permission[]): AuthIdentity => ({
  kind: 'token',
  username: 'tester',
  actor: 'tester',
  role: null,
  permissions: new Set(permissions),
  totpEnrollmentPending: false,
});

/** Counts per key, most first then by key (the API's order), the top `n`. */
function top(values: Array<string | undefined>, n: number) {
  const counts = new Map<string, number>();
  for (const v of values) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
    .slice(0, n);
}

describe('GET /api/overview and /api/fleet on a known data set', () => {
  let store: EventStore;
  let app: Hono;
  const now = new Date();
  const conns: GatewayConnection[] = [];
  const events: Event[] = [];
  const alerts: Alert[] = [];
  let insertedAt = 0;

  before(async () => {
    store = await createPgliteStore({});
    await store.init(now);
    const registry = createGatewayRegistry(store.sql);
    for (const id of ['gw-a', 'gw-b', 'gw-c', 'gw-gone']) {
      const { token } = await registry.createEnrollmentToken({ gatewayId: id, ttlSecs: 60, now });
      const enrolled = await registry.enroll({
        token,
        gatewayId: id,
        publicKey: generateGatewayKeys().publicKey,
        now,
      });
      assert.equal(enrolled.ok, true);
    }
    await registry.revoke('gw-gone', now);

    // 300 events over the last 55 minutes: devices and hosts with a skewed distribution.
    // gw-a's newest events were received 1 s before storing (not lagging); gw-b's 5 min before.
    const t0 = now.getTime();
    insertedAt = Date.now();
    for (let i = 0; i < 300; i += 1) {
      const gateway = ['gw-a', 'gw-a', 'gw-b'][i % 3]!;
      const ts = new Date(t0 - 55 * 60_000 + Math.floor((i * i * 37) % (54 * 60_000)));
      const received = gateway === 'gw-a' ? new Date(insertedAt - 1000) : new Date(insertedAt - 300_000);
      events.push(
        makeEvent(gateway, i + 1, ts.toISOString(), {
          received: received.toISOString(),
          host: `host-${i % 7 === 0 ? 1 : (i % 4) + 2}`,
          device: { id: `plc-${(i * 7) % 11 < 6 ? 1 : (i % 5) + 2}` },
        }),
      );
    }
    // Outside the range: not counted anywhere.
    // (Received just now: delivery lag is measured from the gateway's receipt, not the device's clock.)
    events.push(
      makeEvent('gw-a', 1000, new Date(t0 - 3 * 3_600_000).toISOString(), {
        host: 'host-old',
        received: new Date(insertedAt - 1000).toISOString(),
      }),
    );
    const result = await store.insertEvents(events);
    assert.equal(result.inserted, events.length);

    const metrics = createCentralMetrics({ processMetrics: false });
    const alertsApi = createAlerts({ sql: store.sql, metrics, groupWindowSecs: 0 });
    const raise = async (
      rule: string,
      level: 'low' | 'medium' | 'high' | 'critical',
      techniques: string[],
      host: string,
      at: Date,
    ) => {
      const r = await alertsApi.raise({
        rule: { id: rule, title: rule, level, techniques, tags: [] },
        entity: { host, gateway: 'gw-a' },
        event_ids: ['gw-a:1'],
        at: at.toISOString(),
      });
      alerts.push(r.alert!);
      return r.alert!;
    };
    await raise('r1', 'high', ['T0836', 'T0855'], 'h1', new Date(t0 - 10 * 60_000));
    await raise('r2', 'critical', ['T0836'], 'h2', new Date(t0 - 20 * 60_000));
    const ack = await raise('r3', 'medium', ['T0866'], 'h3', new Date(t0 - 30 * 60_000));
    await raise('r4', 'high', [], 'h4', new Date(t0 - 40 * 60_000));
    await raise('r5', 'low', ['T0855'], 'h5', new Date(t0 - 5 * 3_600_000)); // outside 1 h
    alerts[2] = (await alertsApi.store.update(ack.id, { status: 'acknowledged' }, 'tester'))!;

    const hub = createLiveHub({ changes: new EventEmitter(), metrics, connections: () => conns });
    app = new Hono();
    app.use('/api/*', async (c, next) => {
      const as = c.req.header('x-test-as');
      c.set('auth', as === undefined ? undefined : identity(as ? (as.split(',') as Permission[]) : []));
      await next();
    });
    app.route('/api', overviewApi({ store, registry, connections: () => conns, hub, now: () => now }));
    const at = new Date();
    conns.push(
      {
        gateway: 'gw-a',
        remote: '10.0.0.1',
        connectedAt: at,
        lastSeen: at,
        software: 'edge-siem-gateway/test',
        queue: {
          events: 42,
          bytes: 4200,
          by_lane: { alert: 1, security: 11, telemetry: 30 },
          reportedAt: at,
        },
      },
      { gateway: 'gw-b', remote: '10.0.0.2', connectedAt: at, lastSeen: at },
    );
  });
  after(async () => {
    await store?.close();
  });

  it('refuses 401 without an identity and 403 without read', async () => {
    for (const p of ['/api/overview', '/api/fleet']) {
      assert.equal((await app.request(p)).status, 401);
      assert.equal((await app.request(p, { headers: { 'x-test-as': 'alerts' } })).status, 403);
    }
  });

  it('computes the overview as a reference computed from the same data', async () => {
    const res = await app.request('/api/overview?range=1h', { headers: { 'x-test-as': 'read' } });
    assert.equal(res.status, 200);
    const o = (await res.json()) as Overview;
    const [rangeMs, bucketMs] = OVERVIEW_RANGES['1h']!;
    const from = Math.floor((now.getTime() - rangeMs) / bucketMs) * bucketMs;
    assert.equal(o.from, new Date(from).toISOString());
    assert.equal(o.interval_ms, bucketMs);
    const inRange = events.filter((e) => Date.parse(e.ts) >= from && Date.parse(e.ts) < now.getTime());
    const expected: Array<{ start: string; count: number }> = [];
    for (let t = from; t < now.getTime(); t += bucketMs) {
      expected.push({
        start: new Date(t).toISOString(),
        count: inRange.filter((e) => Date.parse(e.ts) >= t && Date.parse(e.ts) < t + bucketMs).length,
      });
    }
    assert.deepEqual(o.events.buckets, expected);
    assert.equal(o.events.total, 300);
    assert.deepEqual(
      o.top_devices,
      top(
        inRange.map((e) => e.device?.id),
        10,
      ),
    );
    assert.deepEqual(
      o.top_hosts,
      top(
        inRange.map((e) => e.host),
        10,
      ),
    );

    const recent = alerts.filter((a) => Date.parse(a.last_seen) >= from);
    const bySeverity = new Map<number, number>();
    for (const a of recent) bySeverity.set(a.severity, (bySeverity.get(a.severity) ?? 0) + 1);
    assert.deepEqual(
      o.alerts.by_severity,
      [...bySeverity].sort((a, b) => a[0] - b[0]).map(([severity, count]) => ({ severity, count })),
    );
    assert.deepEqual(
      o.alerts.by_technique,
      top(
        recent.flatMap((a) => a.techniques),
        15,
      ).map(({ value, count }) => ({ technique: value, count })),
    );
    assert.deepEqual(o.alerts.by_status, { new: 3, acknowledged: 1 });

    // Enrolled: the three active ones; online: a and b; b's newest events lag 5 min.
    assert.equal(o.gateways.enrolled, 3);
    assert.equal(o.gateways.online, 2);
    assert.deepEqual(o.gateways.offline, ['gw-c']);
    assert.deepEqual(
      o.gateways.lagging.map((g) => g.id),
      ['gw-b'],
    );
    assert.ok(o.gateways.lagging[0]!.lag_ms >= 300_000 && o.gateways.lagging[0]!.lag_ms > LAGGING_MS);
  });

  it('lists the fleet with delivery lag and the queue depth the heartbeat reported', async () => {
    const res = await app.request('/api/fleet', { headers: { 'x-test-as': 'read' } });
    assert.equal(res.status, 200);
    const { gateways } = (await res.json()) as {
      gateways: Array<{
        id: string;
        status: string;
        connected: boolean;
        software: string | null;
        lag_ms: number | null;
        events_5m: number;
        lagging: boolean;
        queue: { events: number; by_lane: Record<string, number>; reported_at: string } | null;
      }>;
    };
    const byId = new Map(gateways.map((g) => [g.id, g]));
    assert.deepEqual([...byId.keys()].sort(), ['gw-a', 'gw-b', 'gw-c', 'gw-gone']);
    const a = byId.get('gw-a')!;
    assert.equal(a.connected, true);
    assert.equal(a.software, 'edge-siem-gateway/test');
    assert.equal(a.events_5m, events.filter((e) => e.gateway === 'gw-a').length);
    // Received 1 s before the insert: the lag is that second plus the time the insert took.
    assert.ok(a.lag_ms! >= 1000 && a.lag_ms! < 1000 + (Date.now() - insertedAt) + 1000, String(a.lag_ms));
    assert.equal(a.lagging, false);
    assert.deepEqual(a.queue?.by_lane, { alert: 1, security: 11, telemetry: 30 });
    assert.equal(a.queue?.events, 42);
    const b = byId.get('gw-b')!;
    assert.equal(b.lagging, true);
    assert.equal(b.queue, null, 'no heartbeat report yet');
    assert.equal(byId.get('gw-c')!.connected, false);
    assert.equal(byId.get('gw-c')!.lag_ms, null);
    assert.equal(byId.get('gw-gone')!.status, 'revoked');
  });
});

describe('GET /api/fleet queue depth from a real gateway', () => {
  it('reports the depth by lane the gateway heartbeat carries while it drains a backlog', async () => {
    // Central admits 200 events/s: 3,000 queued telemetry events take ~15 s to drain.
    const c = await startTestCentral(
      { type: 'pglite' },
      { link: { max_events_per_second_per_gateway: 200 } },
    );
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { heartbeatSecs: 0.2 },
    );
    try {
      await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined), { what: 'connected' });
      const now = new Date().toISOString();
      await gw.emit(
        Array.from({ length: 3000 }, (_, i) => ({
          ts: now,
          received: now,
          source: 'syslog' as const,
          kind: 'telemetry' as const,
          action: 'syslog.message',
          severity: 6,
          message: `backlog ${i}`,
          fields: {},
          tags: [],
        })),
      );
      type Fleet = {
        gateways: Array<{ id: string; queue: { events: number; by_lane: Record<string, number> } | null }>;
      };
      const reported = await waitFor(
        async () => {
          const q = ((await c.api('/api/fleet')).body as Fleet).gateways.find(
            (g) => g.id === c.gatewayId,
          )?.queue;
          return q && q.events > 0 ? q : undefined;
        },
        { what: 'a non-empty queue in the fleet view' },
      );
      assert.ok(reported.events <= 3000, JSON.stringify(reported));
      assert.equal(
        reported.by_lane.alert! + reported.by_lane.security! + reported.by_lane.telemetry!,
        reported.events,
      );
      assert.ok(reported.by_lane.telemetry! > 0);
      // Once drained, the next heartbeat says so.
      await waitFor(
        async () => {
          const q = ((await c.api('/api/fleet')).body as Fleet).gateways.find(
            (g) => g.id === c.gatewayId,
          )?.queue;
          return q && q.events === 0 ? true : undefined;
        },
        { timeoutMs: 60_000, what: 'the drained queue in the fleet view' },
      );
    } finally {
      await gw.stop();
      await c.central.stop();
    }
  });
});
