/**
 * The OT devices on the device dashboard, in a real browser (Debian's Chromium via
 * playwright-core): a real gateway whose ot_proxy relays a DNP3 master to a simulated outstation
 * and an S7 HMI to a simulated controller. The device list shows both under their protocols with
 * what their protocol says they are (DNP3 address; S7 module and serial, from the SZL answers);
 * each device page shows that identity and its points with their latest values, as the Modbus
 * registers are shown: the outstation's binary and analog inputs, the controller's DB1 reads, and
 * an analog value changes on the page without a reload when the outstation's value moves.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { buildDashboards, DEFAULT_DASHBOARD_OUT } from '../../dashboards/build.ts';
import { startDnp3Outstation, startDnp3Poller } from '../../firmware-shims/simulators/dnp3-outstation.ts';
import { S7_IDENTITY, startS7Hmi, startS7Plc } from '../../firmware-shims/simulators/s7-plc.ts';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway } from '../support/stack.ts';

const PASSWORD = 'plant-floor-viewer-2';
const RTU = 'dnp3:127.0.0.1/10';
const CPU = 's7comm:127.0.0.1';

async function waitForText(page: Page, selector: string, ok: (text: string) => boolean, timeoutMs = 20_000) {
  return waitFor(
    async () => {
      const text = (await page.textContent(selector, { timeout: 1000 }).catch(() => null)) ?? '';
      return ok(text) ? text : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `text of ${selector}` },
  );
}

test(
  'device dashboard: DNP3 outstation and S7 controller behind the ot_proxy, identity and points',
  { timeout: 180_000 },
  async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    t.after(() => browser.close());
    if (!existsSync(path.join(DEFAULT_DASHBOARD_OUT, 'gateway', 'index.html'))) await buildDashboards();
    const work = mkdtempSync(path.join(tmpdir(), 'siem-e2e-ot-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const passwordFile = path.join(work, 'password');
    writeFileSync(passwordFile, PASSWORD, { mode: 0o600 });

    // Values frozen until the page is open, then the outstation's analog input 0 is moved by hand.
    const outstation = await startDnp3Outstation({ stepMs: 0 });
    t.after(() => outstation.stop());
    const cpu = await startS7Plc({ stepMs: 0 });
    t.after(() => cpu.stop());
    const c = await startTestCentral({ type: 'pglite', data_dir: path.join(work, 'central') });
    t.after(() => c.central.stop());
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      {
        syslog: false,
        sources: {
          ot_proxy: {
            type: 'ot_proxy',
            proxies: [
              { protocol: 'dnp3', listen: '127.0.0.1:0', upstream: `127.0.0.1:${outstation.port}` },
              { protocol: 's7comm', listen: '127.0.0.1:0', upstream: `127.0.0.1:${cpu.port}` },
            ],
          },
        },
        http: {
          auth: { first_admin: { username: 'ot', password_file: passwordFile } },
          dashboard_dir: path.join(DEFAULT_DASHBOARD_OUT, 'gateway'),
        },
      },
    );
    t.after(() => gw.stop());
    const [dnp3, s7] = gw.gateway
      .sources()
      .find((s) => s.name === 'ot_proxy')!
      .addresses();
    const master = startDnp3Poller({ host: '127.0.0.1', port: dnp3!.port, intervalMs: 300 });
    t.after(() => master.stop());
    const hmi = startS7Hmi({ host: '127.0.0.1', port: s7!.port, intervalMs: 300 });
    t.after(() => hmi.stop());

    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(gw.gateway.httpUrl());
    await page.waitForSelector('form[aria-label="log in"]');
    await page.fill('input[name=username]', 'ot');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');

    // The list: each under its protocol, with what its protocol says it is.
    const rtuRow = `[data-testid=devices-dnp3] tr[data-device="${RTU}"]`;
    const cpuRow = `[data-testid=devices-s7comm] tr[data-device="${CPU}"]`;
    await page.waitForSelector(rtuRow, { timeout: 30_000 });
    await page.waitForSelector(cpuRow, { timeout: 30_000 });
    await waitForText(page, `${rtuRow} [data-testid=identity]`, (x) => x.includes('DNP3 address 10'));
    await waitForText(
      page,
      `${cpuRow} [data-testid=identity]`,
      (x) => x.includes(`serial number ${S7_IDENTITY.serialNumber}`) && x.includes(S7_IDENTITY.moduleName),
    );
    assert.match((await page.textContent(cpuRow)) ?? '', new RegExp(S7_IDENTITY.stationName));
    await screenshot(page, 'gateway-devices-ot');

    // The outstation: its address, and its binary and analog inputs with their latest values.
    await page.click(`${rtuRow} a`);
    await waitForText(page, '[data-testid=identity]', (x) => x.includes('DNP3 address') && x.includes('10'));
    const point = (name: string) => `[data-testid=points] tr[data-point="${name}"] [data-testid=point-value]`;
    await waitForText(page, point('analog_input[0]'), (x) => x === '11000');
    await waitForText(page, point('analog_input[2]'), (x) => x === '120');
    await waitForText(page, point('binary_input[0]'), (x) => x === '1');
    await waitForText(page, point('binary_input[1]'), (x) => x === '0');
    await page.evaluate('window.marker = 1');
    outstation.analog[0] = 11_234;
    await waitForText(page, point('analog_input[0]'), (x) => x === '11234');
    await waitForText(page, '[data-value="analog_input[0]"] [data-testid=current]', (x) =>
      x.startsWith('11234'),
    );
    assert.equal(await page.evaluate('window.marker'), 1, 'no reload');
    await screenshot(page, 'gateway-device-dnp3');

    // The controller: module, order number, firmware and serial; DB1's level, pressure, flow, pump.
    await page.goto(`${gw.gateway.httpUrl()}/#/device/${encodeURIComponent(CPU)}`);
    const identity = await waitForText(page, '[data-testid=identity]', (x) =>
      x.includes(S7_IDENTITY.serialNumber),
    );
    for (const want of [S7_IDENTITY.orderNumber, S7_IDENTITY.moduleName, S7_IDENTITY.stationName, 'V3.2.6'])
      assert.ok(identity.includes(want), `${want} in ${identity}`);
    const db = cpu.db(1)!;
    await waitForText(page, point('DB1.DBW0'), (x) => x === String(db.readInt16BE(0)));
    await waitForText(page, point('DB1.DBW2'), (x) => x === String(db.readInt16BE(2)));
    await waitForText(page, point('DB1.DBD4'), (x) => Math.abs(Number(x) - db.readFloatBE(4)) < 0.01);
    await waitForText(page, point('DB1.DBX8.0'), (x) => x === String(db[8]! & 1));
    await screenshot(page, 'gateway-device-s7');
  },
);
