/**
 * Incidents end to end (issue 21 ask 3): central on PGlite, a gateway with its embedded MQTT broker
 * and rules/ics, and the demo's rotating-id MQTT brute force (demo/scenarios/mqtt.ts) from
 * 127.0.0.66. The alerts it raises (the brute force, the new devices behind each client id) are
 * one incident of that address, not one per alert; then an analyst opens the incident list and
 * the incident's timeline in Debian's Chromium and acknowledges it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { mqttBruteForce } from '../../demo/scenarios/mqtt.ts';
import type { PlantTargets } from '../../demo/scenarios/types.ts';
import { hashPassword } from '../../gateway/sources/mqtt-broker/password.ts';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { freePort, REPO_ROOT, skipUnmet, waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral, type TestGateway } from '../support/stack.ts';

const ATTACKER = '127.0.0.66';
const PASSWORD = 'correct horse battery';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
describe('incidents: the rotating-id MQTT brute force is one incident', () => {
  let browser: Browser | undefined;
  let c: TestCentral | undefined;
  let gw: TestGateway | undefined;
  let base: string;
  const admin = async (method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${c!.apiToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };

  before(async (t) => {
    browser = await launchBrowser(t as never);
    c = await startTestCentral({ type: 'pglite' });
    base = c.central.url();
    const mqttPort = await freePort();
    gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      {
        detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
        sources: {
          mqtt_in: {
            type: 'mqtt_broker',
            listen: `127.0.0.1:${mqttPort}`,
            users: [
              {
                username: 'th-01',
                password_hash: await hashPassword('sensor-pass', { N: 4096, r: 8, p: 1 }),
                publish: ['plant/#'],
              },
            ],
          },
        },
      },
    );
    await waitFor(() => (gw!.gateway.forwarder.connected ? true : undefined), {
      what: 'gateway connected',
      timeoutMs: 60_000,
    });
    const targets = {
      attackerAddress: ATTACKER,
      mqtt: { host: '127.0.0.1', port: mqttPort, stolen: { id: 'th-01', password: 'sensor-pass' } },
    } as unknown as PlantTargets;
    await mqttBruteForce.run(targets);
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await c?.central.stop();
  });

  it('folds every alert of the attack into one incident of the address', async (t) => {
    const incident = await waitFor(
      async () => {
        const list = await admin('GET', `/api/incidents?attacker=${ATTACKER}`);
        const found = list.body?.incidents?.[0];
        return found && found.alert_count >= 2 ? found : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'an incident of the attacker with its alerts' },
    );
    // Let the edge's later alerts arrive, then every alert of the attacker is in that one incident.
    await new Promise((r) => setTimeout(r, 5000));
    const list = (await admin('GET', `/api/incidents?attacker=${ATTACKER}`)).body.incidents;
    assert.equal(list.length, 1, JSON.stringify(list));
    const detail = (await admin('GET', `/api/incidents/${incident.id}`)).body;
    const alerts = (await admin('GET', '/api/alerts?limit=500')).body.alerts;
    assert.ok(alerts.length > list.length, `${alerts.length} alerts became ${list.length} incident`);
    const rules = new Set(detail.alerts.map((a: any) => a.rule_title));
    assert.ok(rules.size >= 2, `children of different rules: ${[...rules].join(', ')}`);
    assert.equal(detail.alert_count, detail.alerts.length);
    // Nothing else happens on this gateway: every alert raised is a child of that incident.
    assert.equal(detail.alerts.length, alerts.length);
    t.diagnostic(
      `${alerts.length} alerts; ${detail.alerts.length} in the attacker's one incident (${[...rules].join(', ')})`,
    );
  });

  it('shows the incident list and its timeline in the browser, and an analyst acknowledges it', async (t) => {
    if (!browser) return skipUnmet(t);
    const created = await admin('POST', '/api/users', {
      username: 'ana',
      password: PASSWORD,
      role: 'analyst',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/#/incidents`);
    await page.fill('input[name=username]', 'ana');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('table.incidents tbody tr');
    const rows = await page.$$eval('table.incidents tbody tr', (trs) =>
      trs.map((tr) => tr.textContent ?? ''),
    );
    assert.equal(rows.filter((r) => r.includes(ATTACKER)).length, 1, rows.join('\n'));
    await screenshot(page, 'incidents-list');
    await page.click(`table.incidents tbody tr >> text=${ATTACKER} >> xpath=.. >> a`);
    await page.waitForSelector('.incident-timeline li[data-kind=alert]');
    const items = await page.$$eval('.incident-timeline li', (lis) =>
      lis.map((li) => ({ kind: li.getAttribute('data-kind'), text: li.textContent ?? '' })),
    );
    assert.ok(
      items.some((i) => i.kind === 'event' && i.text.includes(ATTACKER)),
      JSON.stringify(items),
    );
    await screenshot(page, 'incident-timeline');
    await page.click('button:has-text("Acknowledge")');
    await page.waitForSelector('text=acknowledged');
    const [incident] = (await admin('GET', `/api/incidents?attacker=${ATTACKER}`)).body.incidents;
    assert.equal(incident.status, 'acknowledged');
    const detail = (await admin('GET', `/api/incidents/${incident.id}`)).body;
    assert.deepEqual(
      detail.history.filter((h: any) => h.change === 'status').map((h: any) => [h.actor, h.to]),
      [['ana', 'acknowledged']],
    );
    await context.close();
  });
});
