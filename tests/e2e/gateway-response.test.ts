/**
 * The device dashboard's Response page in Debian's Chromium (issue 21 ask 4): on a gateway whose
 * link to central is down, a block a playbook set (a denied Modbus master) is listed with what it
 * is, whom, where and until when; the plant's admin lifts it from the page and it is gone from the
 * gateway's controls.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { freePort, skipUnmet } from '../support/env.ts';
import { startTestGateway, type TestGateway } from '../support/stack.ts';

describe('gateway Response page in a browser', () => {
  let browser: Browser | undefined;
  let gw: TestGateway | undefined;
  before(async (t) => {
    browser = await launchBrowser(t as never);
    if (!browser) return;
    const privateKey = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    gw = await startTestGateway(
      { linkUrl: `ws://127.0.0.1:${await freePort()}/link`, gatewayId: 'gw-e2e', privateKey },
      { syslog: false },
    );
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('lists a block and lets the admin lift it', async (t) => {
    if (!browser || !gw) return skipUnmet(t);
    const applied = gw.gateway.controls.apply(
      { type: 'modbus_deny_master', source: 'plc_proxy', value: '10.9.9.9', expire_secs: 3600 },
      'playbook:deny-rogue-master',
    );
    assert.ok(applied.ok);
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${gw.gateway.httpUrl()}/#/response`);
    await page.fill('input[name=username]', gw.admin.username);
    await page.fill('input[name=password]', gw.admin.password);
    await page.click('button[type=submit]');
    const row = page.locator(`table.response-entries tr[data-entry="${applied.ok ? applied.entry.id : ''}"]`);
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /Modbus master denied/);
    assert.match(text, /10\.9\.9\.9/);
    assert.match(text, /plc_proxy/);
    assert.match(text, /playbook:deny-rogue-master/);
    await screenshot(page, 'gateway-response');
    await row.locator('button', { hasText: 'Lift' }).click();
    await page.locator('text=Nothing is blocked.').waitFor();
    assert.equal(gw.gateway.controls.list().length, 0);
  });
});
