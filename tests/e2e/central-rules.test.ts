/**
 * The SOC dashboard's rules, fleet and account screens end to end in Debian's Chromium (issue 8):
 * an analyst uploads a bad Sigma rule and sees each problem the server names, uploads a good one,
 * disables and enables it, pushes the edge rule set to a connected gateway and watches the
 * Gateways page show the new running version and the gateway's queue by lane; a user an admin
 * requires TOTP of logs in, enrols from the otpauth secret shown and gets in; on "My account" she
 * creates an API token (shown once, works, revoked stops working) and changes her password.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { REPO_ROOT, skipUnmet, waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral, type TestGateway } from '../support/stack.ts';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase';

const BAD_RULE = `title: Broken rule
id: e2e-broken-rule
logsource: { product: syslog }
detection:
  selection: { action: syslog.sshd.auth_success }
level: high
`;

const GOOD_RULE = `title: E2E probe login
id: e2e-good-rule
status: test
logsource: { product: syslog }
detection:
  selection: { action: syslog.sshd.auth_success, host|startswith: e2e- }
  condition: selection
level: high
tags: [attack.ics, attack.t0859]
`;

describe('SOC rules, fleet and account pages in a browser', () => {
  let browser: Browser | undefined;
  let c: TestCentral;
  let gw: TestGateway;
  let base: string;

  const admin = async (method: string, p: string, body?: unknown, token?: string) => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${token ?? c.apiToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };

  const login = async (page: Page, username: string) => {
    await page.goto(`${base}/#/overview`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
  };

  before(async (t) => {
    browser = await launchBrowser(t as never);
    if (!browser) return;
    c = await startTestCentral({ type: 'pglite' }, { heartbeatSecs: 1 });
    base = c.central.url();
    for (const [username, role, requireTotp] of [
      ['rita', 'analyst', false],
      ['eve', 'analyst', true],
    ] as const) {
      const created = await admin('POST', '/api/users', {
        username,
        password: PASSWORD,
        role,
        require_totp: requireTotp,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { heartbeatSecs: 0.5, detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] } },
    );
    await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined), { what: 'gateway connected' });
  });

  after(async () => {
    await browser?.close();
    await gw?.stop();
    await c?.central.stop();
  });

  it('uploads rules (problems shown), toggles one, pushes to a gateway and shows its running version', async (t) => {
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await login(page, 'rita');
    await page.waitForSelector('.topbar-right >> text=rita');
    await page.goto(`${base}/#/rules`);
    await page.waitForSelector('table.rules tbody tr[data-rule]');

    // A rule without a condition: refused, each problem in its own row, nothing stored.
    await page.fill('textarea[name=yaml]', BAD_RULE);
    await page.click('button:has-text("Upload")');
    const problem = page.locator('[data-testid=rule-problems] tr.problem').first();
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /e2e-broken-rule|Broken rule/);
    assert.match((await problem.textContent()) ?? '', /condition/i);
    assert.equal((await admin('GET', '/api/rules/e2e-broken-rule')).status, 404);
    await screenshot(page, 'central-rules-refused');

    await page.fill('textarea[name=yaml]', GOOD_RULE);
    await page.click('button:has-text("Upload")');
    const row = page.locator('tr[data-rule="e2e-good-rule"]');
    await row.waitFor();
    assert.equal(await page.locator('[data-testid=rule-problems]').count(), 0, 'problems cleared');
    assert.match((await row.textContent()) ?? '', /high/);
    assert.match((await row.textContent()) ?? '', /T0859/i);
    assert.match((await row.textContent()) ?? '', /edge/);

    await row.locator('button:has-text("Disable")').click();
    await page.waitForSelector('tr[data-rule="e2e-good-rule"][data-enabled=false]');
    assert.equal((await admin('GET', '/api/rules/e2e-good-rule')).body.enabled, false);
    await row.locator('button:has-text("Enable")').click();
    await page.waitForSelector('tr[data-rule="e2e-good-rule"][data-enabled=true]');
    assert.equal((await admin('GET', '/api/rules/e2e-good-rule')).body.enabled, true);

    // Push to the chosen (connected) gateway; the page says it was sent.
    const states = async () =>
      (
        (await admin('GET', '/api/gateways')).body.gateways as Array<{
          id: string;
          rules: { running_version: string | null; assigned_version: string | null } | null;
        }>
      ).find((g) => g.id === c.gatewayId)!.rules;
    const runningBefore = (await states())?.running_version ?? null;
    await page.check(`input[name=push-gateway][value="${c.gatewayId}"]`);
    await page.click('button:has-text("Push to 1 chosen")');
    await page.waitForSelector(`[data-testid=push-result] >> text=${c.gatewayId}: sent`);
    await screenshot(page, 'central-rules');
    const assigned = await waitFor(
      async () => {
        const s = await states();
        return s?.assigned_version && s.running_version === s.assigned_version
          ? s.assigned_version
          : undefined;
      },
      { what: 'the gateway to run the pushed set' },
    );
    assert.notEqual(assigned, runningBefore, 'a new version runs');

    // The Gateways page shows the version running and the queue by lane from the heartbeat.
    await page.goto(`${base}/#/gateways`);
    const gwRow = page.locator(`tr[data-gateway="${c.gatewayId}"]`);
    await waitFor(
      async () => {
        await page.click('button:has-text("Refresh")');
        return (await gwRow.locator(`[data-running-version="${assigned}"]`).count()) > 0 &&
          (await gwRow.locator('[data-testid=queue-depth]').count()) > 0
          ? true
          : undefined;
      },
      { what: 'running version and queue depth on the Gateways page' },
    );
    assert.match((await gwRow.textContent()) ?? '', /as assigned/);
    assert.match(
      (await gwRow.locator('[data-testid=queue-depth]').textContent()) ?? '',
      /alert \d+ · security \d+ · telemetry \d+/,
    );
    await screenshot(page, 'central-gateways-rules');
    await context.close();
  });

  it('makes a user whom an admin requires TOTP of enrol at login, then lets her in', async (t) => {
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext();
    const page = await context.newPage();
    await login(page, 'eve');
    const secretEl = page.locator('[data-testid=totp-secret]');
    await secretEl.waitFor();
    await screenshot(page, 'central-totp-enrol');
    const secret = await secretEl.getAttribute('data-secret');
    assert.match(secret ?? '', /^[A-Z2-7]{16,}$/, 'a base32 secret');
    assert.match(
      (await page.getAttribute('[data-testid=otpauth-url]', 'href')) ?? '',
      /^otpauth:\/\/totp\/.*secret=/,
    );
    // Until TOTP is on, the session reaches nothing but /api/auth/* (SPEC §2).
    assert.equal(await page.evaluate(async () => (await fetch('/api/alerts')).status), 403);
    const totp = new TOTP({ secret: Secret.fromBase32(secret!), digits: 6, period: 30, algorithm: 'SHA1' });
    await page.fill('input[name=totp-code]', '000000' === totp.generate() ? '111111' : '000000');
    await page.click('button:has-text("Enable two-factor")');
    await page.waitForSelector('form[aria-label="enrol TOTP"] .error');
    await page.fill('input[name=totp-code]', totp.generate());
    await page.click('button:has-text("Enable two-factor")');
    await page.waitForSelector('.topbar-right >> text=eve');
    await page.waitForSelector('text=Event rate');
    assert.equal(await page.evaluate(async () => (await fetch('/api/alerts')).status), 200);
    const users = (await admin('GET', '/api/users')).body.users as Array<{
      username: string;
      totp_enabled: boolean;
    }>;
    assert.equal(users.find((u) => u.username === 'eve')?.totp_enabled, true);

    // My account: an API token shown once that works until revoked.
    await page.click('.topbar-right a[href="#/account"]');
    await page.waitForSelector('h1:has-text("My account")');
    assert.equal(await page.textContent('[data-testid=totp-state]'), 'on');
    assert.equal(await page.locator('input[name=scope][value=admin]').count(), 0, 'no scope beyond her role');
    await page.fill('input[name=token-name]', 'e2e-script');
    await page.check('input[name=scope][value=alerts]');
    await page.click('button:has-text("Create token")');
    const token = ((await page.textContent('[data-testid=new-token] pre')) ?? '').trim();
    assert.ok(token.length > 20, 'the token is shown');
    await page.waitForSelector('tr[data-token="e2e-script"]');
    assert.equal((await admin('GET', '/api/alerts', undefined, token)).status, 200);
    assert.equal((await admin('GET', '/api/users', undefined, token)).status, 403);
    await screenshot(page, 'central-account');
    await page.reload();
    await page.waitForSelector('tr[data-token="e2e-script"]');
    assert.equal(await page.locator('[data-testid=new-token]').count(), 0, 'shown once');
    page.once('dialog', (d) => void d.accept());
    await page.click('tr[data-token="e2e-script"] button:has-text("Revoke")');
    await page.waitForSelector('tr[data-token="e2e-script"]', { state: 'detached' });
    assert.equal((await admin('GET', '/api/alerts', undefined, token)).status, 401);

    // Change password: the old one stops working, the new one is right (TOTP still asked).
    await page.fill('input[name=current-password]', PASSWORD);
    await page.fill('input[name=new-password]', NEW_PASSWORD);
    await page.fill('input[name=new-password-again]', NEW_PASSWORD);
    await page.click('button:has-text("Change password")');
    await page.waitForSelector('text=Password changed');
    const tryLogin = async (password: string) => {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'eve', password }),
      });
      return { status: res.status, body: (await res.json()) as { totp_required?: boolean } };
    };
    const old = await tryLogin(PASSWORD);
    assert.equal(old.status, 401);
    assert.equal(old.body.totp_required, undefined);
    const fresh = await tryLogin(NEW_PASSWORD);
    assert.equal(fresh.status, 401);
    assert.equal(fresh.body.totp_required, true, 'the new password is right; a code is asked next');
    await context.close();
  });
});
