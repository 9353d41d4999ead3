/**
 * The OT engineer's device dashboard in a real browser (Debian's Chromium via playwright-core),
 * served by a real gateway that polls a simulated PLC over Modbus/TCP and runs an MQTT broker,
 * and forwards to a real central: log in, see the devices, watch a register value change on the
 * PLC show up live on the device page (no reload) beside its learned range, stop central and
 * watch the link go offline, the queue grow and a local alert (a new MQTT device) appear, start
 * central again and watch the backlog drain with a progress bar, and check the pipeline panel
 * (each stage by name with its counts, as /api/status has them). Every page is saved as a
 * screenshot (tests/support/browser.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { buildDashboards, DEFAULT_DASHBOARD_OUT } from '../../dashboards/build.ts';
import { startModbusPlc } from '../../firmware-shims/simulators/modbus-plc.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { REPO_ROOT, waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral } from '../support/stack.ts';

const PASSWORD = 'plant-floor-viewer-1';
const PLC_DEVICE = 'modbus:127.0.0.1/1';

/** The number a page shows in an element (thousands separators removed). */
async function numberIn(page: Page, selector: string): Promise<number> {
  const text = (await page.textContent(selector)) ?? '';
  return Number(text.replace(/[^0-9.-]/g, ''));
}

/** Waits until the element's text satisfies `ok` (the page updates itself; nothing reloads). */
async function waitForText(page: Page, selector: string, ok: (text: string) => boolean, timeoutMs = 10_000) {
  return waitFor(
    async () => {
      const text = (await page.textContent(selector, { timeout: 1000 }).catch(() => null)) ?? '';
      return ok(text) ? text : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `text of ${selector}` },
  );
}

/** Syslog lines from a chatty switch, enough to make a backlog worth draining. */
function switchChatter(count: number, from: number): PendingEvent[] {
  const now = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => ({
    ts: now,
    received: now,
    source: 'syslog' as const,
    kind: 'telemetry' as const,
    action: 'syslog.message',
    severity: 6,
    // Distinct lines: the default pipeline folds identical routine syslog into one a minute.
    message: `port Gi0/${(from + i) % 48} counters ok (poll ${from + i})`,
    host: 'sw-line2-01',
    device: { id: 'syslog:sw-line2-01', protocol_id: 'sw-line2-01' },
    fields: {},
    tags: [],
  }));
}

test(
  'device dashboard: login, devices, live values, offline buffering and local alerts, drain',
  { timeout: 240_000 },
  async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    t.after(() => browser.close());
    if (!existsSync(path.join(DEFAULT_DASHBOARD_OUT, 'gateway', 'index.html'))) await buildDashboards();

    const work = mkdtempSync(path.join(tmpdir(), 'siem-e2e-gw-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const passwordFile = path.join(work, 'password');
    writeFileSync(passwordFile, PASSWORD, { mode: 0o600 });
    const centralData = path.join(work, 'central');

    const plc = await startModbusPlc({ host: '127.0.0.1', port: 0 });
    t.after(() => plc.stop());
    plc.memory.holding[3] = 42;

    let c: TestCentral = await startTestCentral({ type: 'pglite', data_dir: centralData });
    t.after(() => c.central.stop());
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      {
        syslog: false,
        sources: {
          plc: {
            type: 'modbus_poller',
            endpoint: `127.0.0.1:${plc.port}`,
            unit_id: 1,
            poll_interval_ms: 250,
            device_name: 'line2-plc',
            points: [
              { name: 'level', address: 3, unit: '%' },
              { name: 'speed_sp', address: 5, setpoint: true, unit: 'rpm' },
            ],
          },
          mqtt_in: {
            type: 'mqtt_broker',
            listen: '127.0.0.1:0',
            allow_anonymous: true,
            anonymous: { publish: ['plant/#'] },
            telemetry: [{ match: 'plant/#' }],
          },
        },
        detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
        http: {
          auth: { first_admin: { username: 'ot', password_file: passwordFile } },
          dashboard_dir: path.join(DEFAULT_DASHBOARD_OUT, 'gateway'),
        },
      },
    );
    t.after(() => gw.stop());
    await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined), { what: 'link up' });
    const mqttPort = gw.gateway
      .sources()
      .find((s) => s.name === 'mqtt_in')!
      .addresses()[0]!.port;

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const url = gw.gateway.httpUrl();

    // Log in.
    const response = await page.goto(url);
    assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'self'/);
    await page.waitForSelector('form[aria-label="log in"]');
    await screenshot(page, 'gateway-login');
    await page.fill('input[name=username]', 'ot');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');

    // The device list, by protocol, with status.
    const row = `tr[data-device="${PLC_DEVICE}"]`;
    await page.waitForSelector(row, { timeout: 15_000 });
    assert.match((await page.textContent(row)) ?? '', /modbus\.poll/);
    await page.fill('input[name=q]', 'nothing-like-this');
    await page.waitForSelector(row, { state: 'detached' });
    await page.fill('input[name=q]', '127.0.0.1');
    await page.waitForSelector(row);
    await screenshot(page, 'gateway-devices');

    // The device page: the level chart shows 42, then 77 once the PLC's register changes, live.
    await page.click(`${row} a`);
    const level = '[data-value="level"] [data-testid="current"]';
    await waitForText(page, level, (x) => x.startsWith('42'));
    // The baseline learns the point under the chart's own name: the card shows its learned range.
    await waitForText(page, '[data-value="level"]', (x) => x.includes('learned range 42 … 42'));
    await page.evaluate('window.marker = 1');
    plc.memory.holding[3] = 77;
    plc.memory.holding[5] = 1500;
    await waitForText(page, level, (x) => x.startsWith('77'));
    assert.equal(await page.evaluate('window.marker'), 1, 'no reload');
    // The set-point change shows in the device's recent events.
    await waitForText(page, '[data-testid=events]', (x) => x.includes('modbus.setpoint_change'));
    assert.ok(await page.isVisible('[data-value="level"] canvas'), 'the level chart is drawn');
    await screenshot(page, 'gateway-device');

    // Central goes away: the link shows offline, the queue grows, local alerts still appear.
    const centralPort = new URL(c.central.url()).port;
    await c.central.stop();
    await page.click('a[href="#/link"]');
    await page.waitForSelector('text=central offline', { timeout: 15_000 });
    assert.match((await page.textContent('[data-testid=link-since]')) ?? '', /offline since \d+ s ago/);
    // The central node the link uses (issue 22: which of central.endpoints), here the only one.
    assert.equal(
      (await page.textContent('[data-testid=link-endpoint]'))?.replace(/\s+/g, ' ').trim(),
      `${c.central.linkUrl()} (the only endpoint)`,
    );
    const before = await numberIn(page, '[data-testid=queue-depth]');
    // More than the gateway keeps in flight (4 batches of 1,000), so the drain below is paced by
    // central's rate limit and shows on the page; the default pipeline summarises the PLC's polls.
    await gw.emit(switchChatter(6000, 0));
    await waitForText(
      page,
      '[data-testid=queue-depth]',
      (x) => Number(x.replace(/[^0-9]/g, '')) >= before + 6000,
    );
    await screenshot(page, 'gateway-link-offline');

    const intruder = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'laptop-on-line2' });
    await intruder.publishAsync('plant/line2/temp', '21.5', { qos: 1 });
    await intruder.endAsync();
    await page.click('a[href="#/alerts"]');
    await page.waitForSelector('[data-testid=offline-notice]');
    await waitForText(page, '[data-testid=alerts]', (x) => x.includes('mqtt:laptop-on-line2'), 15_000);
    await screenshot(page, 'gateway-alerts-offline');
    assert.ok(gw.gateway.queue.depth.byLane.alert >= 1, 'the alert waits in the alert lane');

    // Central is back, slower than the backlog: the link page shows the drain, then an empty queue.
    await page.click('a[href="#/link"]');
    c = await startTestCentral(
      { type: 'pglite', data_dir: centralData },
      {
        listen: `127.0.0.1:${centralPort}`,
        privateKey: c.privateKey,
        link: { max_events_per_second_per_gateway: 300 },
      },
    );
    await page.waitForSelector('[data-testid=drain]', { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid=drain]')) ?? '', /Catching up: \d+% of [\d,]+ sent/);
    await screenshot(page, 'gateway-link-draining');
    await waitForText(page, '[data-testid=queue-depth]', (x) => x.trim() === '0', 90_000);
    await page.waitForSelector('text=central connected');
    await screenshot(page, 'gateway-link-drained');

    // The pipeline panel of the link page: every stage by name, in order, with its counts, the
    // same as /api/status says. The 6,000 distinct switch lines crossed the routine-syslog dedupe
    // whole; the PLC's polls were folded by modbus_reads, so the stages after it are quiet and
    // their row settles on the status's figures (the page refreshes every 2 s).
    const apiStages = async () => {
      const s = (await page.evaluate(async () => (await fetch('/api/status')).json())) as {
        pipeline: {
          stages: Array<{ name: string; in: number; out: number; dropped: number; created: number }>;
        };
      };
      return s.pipeline.stages;
    };
    const panelRow = async (name: string) => {
      const cells = await page.$$eval(`[data-testid=pipeline] [data-testid="stage-${name}"] td`, (tds) =>
        tds.map((td) => td.textContent ?? ''),
      );
      const n = (i: number) => Number((cells[i] ?? '').replace(/[^0-9]/g, ''));
      return { name: cells[0] ?? '', in: n(1), out: n(2), dropped: n(3), created: n(4), why: cells[3] ?? '' };
    };
    await page.waitForSelector('[data-testid=pipeline]');
    const names = (await apiStages()).map((s) => s.name);
    for (const expected of [
      'normalise',
      'inventory',
      'baselines',
      'detect',
      'modbus_reads',
      'sensor_telemetry',
      'routine_syslog',
    ])
      assert.ok(names.includes(expected), `/api/status lists the default stage ${expected}`);
    const shown = await page.$$eval('[data-testid=pipeline] tbody tr', (trs) =>
      trs.map((tr) => tr.getAttribute('data-testid')),
    );
    assert.deepEqual(
      shown,
      names.map((n) => `stage-${n}`),
      'the panel lists the stages in pipeline order',
    );
    const syslogRow = await panelRow('routine_syslog');
    assert.match(syslogRow.name, /routine_syslog\s*dedupe/);
    assert.ok(
      syslogRow.in >= 6000 && syslogRow.out >= 6000,
      `routine_syslog in/out: ${JSON.stringify(syslogRow)}`,
    );
    const reads = await panelRow('modbus_reads');
    assert.ok(reads.dropped > 0, 'the PLC polls are folded into summaries');
    assert.match(reads.why, /aggregated/);
    for (const n of names) {
      const r = await panelRow(n);
      assert.equal(r.in + r.created, r.out + r.dropped, `stage ${n}: in + created = out + dropped`);
    }
    await waitFor(
      async () => {
        const api = (await apiStages()).find((s) => s.name === 'routine_syslog')!;
        const row = await panelRow('routine_syslog');
        return row.in === api.in &&
          row.out === api.out &&
          row.dropped === api.dropped &&
          row.created === api.created
          ? true
          : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'the panel agrees with /api/status' },
    );
    await screenshot(page, 'gateway-link-pipeline');
    // What was buffered while offline reached central, the alert among it.
    const stored = await c.events(`device_id=${encodeURIComponent('mqtt:laptop-on-line2')}`);
    assert.ok(
      stored.some((e) => e.kind === 'alert' && e.action === 'alert.raised'),
      'the offline alert reached central',
    );
  },
);
