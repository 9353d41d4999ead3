/**
 * The device dashboard's API on the gateway, in process (gateway/http/dashboard-routes.ts): a
 * device's charted values come back in time order with their units and bounded to the ring size,
 * recent events newest first, local alerts grouped by alert id, the learned baseline and its
 * deviations, the live stream's `status`, `device` and `alert` events, the `read` permission on
 * every route, the cap on concurrent streams, and the page served with the CSP of
 * server-shared/web-auth/SPEC.md §4.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Hono } from 'hono';
import { createBaselines } from '../../gateway/baselines/index.ts';
import { type DashboardDeps, registerDashboardRoutes } from '../../gateway/http/dashboard-routes.ts';
import { createDeviceHistory, type DeviceHistoryOptions } from '../../gateway/http/device-series.ts';
import type { GatewayStatus } from '../../gateway/http/index.ts';
import { registerDashboardStatic } from '../../gateway/http/static.ts';
import { DASHBOARD_CSP } from '../../server-shared/static-dashboard.ts';
import { Inventory } from '../../gateway/inventory/index.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import type { AuthIdentity } from '../../server-shared/web-auth/permissions.ts';
import type { Permission } from '../../server-shared/web-auth/types.ts';
import { waitFor } from '../support/env.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-gw-http-'));
  dirs.push(dir);
  return dir;
};

const PLC = 'modbus:127.0.0.1/1';

function poll(ts: number, readings: Record<string, number | boolean>): PendingEvent & { id: string } {
  const at = new Date(ts).toISOString();
  return {
    id: `gw:${ts}`,
    ts: at,
    received: at,
    source: 'modbus',
    kind: 'telemetry',
    action: 'modbus.poll',
    severity: 6,
    message: `poll ${JSON.stringify(readings)}`,
    device: { id: PLC, protocol_id: '1' },
    fields: { readings, units: { level: '%' } },
    tags: [],
  };
}

function alert(alertId: string, count: number, device = PLC): PendingEvent {
  const at = new Date().toISOString();
  return {
    ts: at,
    received: at,
    source: 'gateway',
    kind: 'alert',
    action: count > 1 ? 'alert.updated' : 'alert.raised',
    severity: 3,
    message: `Set-point changed (${count} times)`,
    device: { id: device },
    threat: { rule_id: 'r-1', rule_name: 'Set-point changed', techniques: ['T0836'] },
    fields: { alert_id: alertId, count },
    tags: ['alert'],
  };
}

const STATUS = { status: 'degraded', gateway: 'gw', link: { connected: false } } as unknown as GatewayStatus;

function identity(permissions: Permission[]): AuthIdentity {
  return {
    kind: 'session',
    username: 'ot',
    actor: 'ot',
    role: 'viewer',
    permissions: new Set(permissions),
    totpEnrollmentPending: false,
  };
}

async function setup(
  options: Partial<DeviceHistoryOptions> = {},
  extra: Partial<DashboardDeps> = {},
  permissions: Permission[] | null = ['read'],
) {
  const inventory = await Inventory.open({ dir: tempDir(), maxDevices: 100, saveIntervalMs: 60_000 });
  after(() => inventory.close());
  const history = createDeviceHistory({
    pointsPerValue: 300,
    maxValues: 1000,
    eventsPerDevice: 50,
    maxDevices: 100,
    maxAlerts: 100,
    ...options,
  });
  const app = new Hono();
  // Stands in for the web-auth middleware: who the caller is, the routes decide what they may do.
  app.use('/api/*', async (c, next) => {
    c.set('auth', permissions ? identity(permissions) : undefined);
    await next();
  });
  const deps: DashboardDeps = { history, inventory, status: async () => STATUS, ...extra };
  registerDashboardRoutes(app, deps);
  const observe = (events: PendingEvent[]) => {
    for (const e of events) inventory.observe(e, new Date(e.ts));
    history.observe(events);
  };
  const get = async (p: string) => {
    const res = await app.request(p);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { app, history, inventory, observe, get };
}

describe('device dashboard API', () => {
  it('charts a device’s values in time order with units, bounded to the ring', async () => {
    const { observe, get } = await setup({ pointsPerValue: 10 });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    observe(Array.from({ length: 25 }, (_, i) => poll(t0 + i * 1000, { level: i * 2, pump: i % 2 === 0 })));
    const { status, body } = await get(`/api/devices/${encodeURIComponent(PLC)}/series`);
    assert.equal(status, 200);
    const series = body.series as Array<{ name: string; unit?: string; t: number[]; v: number[] }>;
    assert.deepEqual(
      series.map((s) => s.name),
      ['level', 'pump'],
    );
    const level = series[0]!;
    assert.equal(level.unit, '%');
    assert.deepEqual(
      level.t,
      Array.from({ length: 10 }, (_, i) => t0 + (15 + i) * 1000),
    );
    assert.deepEqual(
      level.v,
      Array.from({ length: 10 }, (_, i) => (15 + i) * 2),
    );
    assert.deepEqual(series[1]!.v.slice(-2), [0, 1]); // i = 23, 24

    const since = await get(
      `/api/devices/${encodeURIComponent(PLC)}/series?since=${t0 + 22_000}&field=level`,
    );
    assert.deepEqual((since.body.series as Array<{ v: number[] }>)[0]!.v, [46, 48]);
    assert.equal((await get('/api/devices/nope/series')).status, 404);
  });

  it('bounds charted values across devices and forgets the least recently updated device', async () => {
    const { history } = await setup({ maxValues: 3, maxDevices: 2 });
    const t = Date.now();
    history.observe([poll(t, { a: 1, b: 2, c: 3, d: 4 })]);
    assert.equal(history.stats().values, 3);
    assert.equal(history.stats().refused_values, 1);
    const other = (id: string) => ({ ...poll(t, { x: 1 }), device: { id } });
    history.observe([other('dev-2')]);
    history.observe([poll(t + 1, { a: 5 })]); // PLC is now the most recent
    history.observe([other('dev-3')]); // dev-2 goes
    assert.equal(history.has('dev-2'), false);
    assert.equal(history.has(PLC), true);
    assert.equal(history.stats().forgotten_devices, 1);
    assert.ok(history.stats().values <= 3);
  });

  it('lists recent events newest first and local alerts once per alert id', async () => {
    const { observe, get } = await setup({ eventsPerDevice: 5 });
    const t0 = Date.now() - 60_000;
    observe(Array.from({ length: 8 }, (_, i) => poll(t0 + i, { level: i })));
    observe([alert('a-1', 1), alert('a-2', 1, 'mqtt:other'), alert('a-1', 3)]);
    const { status, body } = await get(`/api/devices/${encodeURIComponent(PLC)}/events?limit=3`);
    assert.equal(status, 200);
    const events = body.events as Array<{ id: string; action: string }>;
    assert.deepEqual(
      events.map((e) => e.id),
      [`gw:${t0 + 7}`, `gw:${t0 + 6}`, `gw:${t0 + 5}`],
    );
    const deviceAlerts = body.alerts as Array<{ alert_id: string; count: number }>;
    assert.deepEqual(
      deviceAlerts.map((a) => [a.alert_id, a.count]),
      [['a-1', 3]],
    );
    const all = await get('/api/alerts');
    const alerts = all.body.alerts as Array<{ alert_id: string; count: number; techniques: string[] }>;
    assert.deepEqual(
      alerts.map((a) => [a.alert_id, a.count]),
      [
        ['a-1', 3],
        ['a-2', 1],
      ],
    );
    assert.deepEqual(alerts[0]!.techniques, ['T0836']);
    assert.equal((await get('/api/alerts?device=mqtt:other')).body.alerts instanceof Array, true);
    assert.equal(((await get('/api/alerts?device=mqtt:other')).body.alerts as unknown[]).length, 1);
  });

  it('shows the learned baseline and what deviated from it since', async () => {
    const baselines = createBaselines({
      learningMs: 60_000,
      rangeMargin: 0.1,
      rateFactor: 10,
      minRatePerMin: 60,
    });
    let now = Date.parse('2026-01-01T00:00:00Z');
    const { observe, get } = await setup(
      {},
      { baselines: { get: (d) => baselines.devices.get(d), learningMs: 60_000 }, now: () => now },
    );
    const write = (ts: number, ip: string, value: number): PendingEvent => ({
      ...poll(ts, {}),
      action: 'modbus.write_single_register',
      kind: 'security',
      src: { ip, port: 50_000 },
      fields: { direction: 'request', function_code: 6, address: 10, values: [value] },
    });
    for (const [ts, ip, value] of [
      [now, '10.0.0.1', 100],
      [now + 1000, '10.0.0.1', 120],
    ] as const) {
      baselines.observe(write(ts, ip, value), ts);
      observe([write(ts, ip, value)]);
    }
    const learning = await get(`/api/devices/${encodeURIComponent(PLC)}/baseline`);
    assert.equal(learning.body.state, 'learning');
    assert.deepEqual(learning.body.ranges, { 'holding[10]': { min: 100, max: 120 } });
    now += 120_000;
    for (const e of baselines.observe(write(now, '10.0.0.9', 500), now)) observe([e]);
    const learned = await get(`/api/devices/${encodeURIComponent(PLC)}/baseline`);
    assert.equal(learned.body.state, 'learned');
    assert.deepEqual(learned.body.peers, ['10.0.0.1']);
    assert.deepEqual(learned.body.changes, [
      { kind: 'new_peer', detail: '10.0.0.9' },
      { kind: 'out_of_range', point: 'holding[10]', value: 500 },
    ]);
    // The charted register value came from the write request.
    const series = await get(`/api/devices/${encodeURIComponent(PLC)}/series?field=holding[10]`);
    assert.deepEqual((series.body.series as Array<{ v: number[] }>)[0]!.v, [100, 120]);
  });

  it('refuses every route without the read permission', async () => {
    for (const [permissions, expected] of [
      [null, 401],
      [[], 403],
    ] as const) {
      const { app, observe } = await setup({}, {}, permissions === null ? null : [...permissions]);
      observe([poll(Date.now(), { level: 1 })]);
      for (const p of [
        `/api/devices/${encodeURIComponent(PLC)}/series`,
        `/api/devices/${encodeURIComponent(PLC)}/events`,
        `/api/devices/${encodeURIComponent(PLC)}/baseline`,
        '/api/alerts',
        '/api/stream',
      ]) {
        assert.equal((await app.request(p)).status, expected, p);
      }
    }
  });
});

/** Reads server-sent events from a response body; `until` reads more until it says stop. */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ event: string; data: string }> = [];
  let buffer = '';
  return {
    events,
    async until(done: (events: Array<{ event: string; data: string }>) => boolean) {
      while (!done(events)) {
        const { value, done: ended } = await reader.read();
        if (ended) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join('\n');
          events.push({ event, data });
        }
      }
      return events;
    },
    cancel: () => reader.cancel(),
  };
}

describe('live stream (GET /api/stream)', () => {
  it('sends status, then the changed device with its latest values, and each local alert', async () => {
    const { app, observe } = await setup(
      {},
      { stream: { statusIntervalMs: 60_000, deviceIntervalMs: 10, heartbeatMs: 60_000 } },
    );
    const res = await app.request('/api/stream');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const sse = sseReader(res);
    const [first] = await sse.until((e) => e.length >= 1);
    assert.equal(first!.event, 'status');
    assert.deepEqual(JSON.parse(first!.data), STATUS);
    observe([poll(Date.now(), { level: 42 })]);
    observe([alert('a-9', 1)]);
    const rest = await sse.until(
      (e) => e.some((x) => x.event === 'device') && e.some((x) => x.event === 'alert'),
    );
    const device = JSON.parse(rest.find((e) => e.event === 'device')!.data);
    assert.equal(device.device.id, PLC);
    assert.equal(device.device.baseline, 'none');
    assert.equal(device.values.level.value, 42);
    assert.equal(device.values.level.unit, '%');
    assert.equal(JSON.parse(rest.find((e) => e.event === 'alert')!.data).alert_id, 'a-9');
    await sse.cancel();
  });

  it('caps concurrent streams and frees a slot when a client goes away', async () => {
    const { app } = await setup({}, { stream: { maxStreams: 1, statusIntervalMs: 20 } });
    const one = await app.request('/api/stream');
    const sse = sseReader(one);
    await sse.until((e) => e.length >= 1);
    assert.equal((await app.request('/api/stream')).status, 503);
    await sse.cancel();
    const again = await waitFor(async () => {
      const res = await app.request('/api/stream');
      if (res.status === 200) return res;
      await res.body?.cancel();
      return undefined;
    });
    await again.body!.cancel();
  });
});

describe('dashboard page', () => {
  it('serves the built files with the CSP of SPEC §4 and leaves /api to the API', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>gw</title>');
    writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
    const app = new Hono();
    registerDashboardStatic(app, dir);
    app.get('/api/status', (c) => c.json({ ok: true }));
    const page = await app.request('/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>gw<\/title>/);
    assert.equal(page.headers.get('content-security-policy'), DASHBOARD_CSP);
    const js = await app.request('/app.js');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const api = await app.request('/api/status');
    assert.deepEqual(await api.json(), { ok: true });
    assert.equal((await app.request('/../../etc/passwd')).status, 404);

    const bare = new Hono();
    registerDashboardStatic(bare, path.join(dir, 'missing'));
    const missing = await bare.request('/');
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /not built/);
  });
});
