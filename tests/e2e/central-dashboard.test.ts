/**
 * The SOC dashboard end to end in Debian's Chromium (issue 8): central on PGlite with a gateway
 * running rules/ics; users made through the users API. An analyst logs in, watches an SSH brute
 * force sent as real syslog become an alert that appears live in the queue (no reload),
 * acknowledges it and searches the events; a TOTP user logs in with a code made here; a viewer
 * is refused an admin action in the UI and by the API; a page on another origin cannot post to
 * the API with the analyst's cookie (CSRF); a planted session id is replaced at login and dies
 * (session fixation). Every page is saved as a screenshot (tests/support/browser.ts).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { REPO_ROOT, skipUnmet, waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral, type TestGateway } from '../support/stack.ts';

const PASSWORD = 'correct horse battery';
const USERS = { analyst: 'ana', viewer: 'vic', admin: 'ada', totp: 'tom' } as const;

describe('SOC dashboard in a browser', () => {
  let browser: Browser | undefined;
  let c: TestCentral;
  let gw: TestGateway;
  let base: string;
  let totp: TOTP;
  let evil: Server;
  let analyst: { context: BrowserContext; page: Page };

  /** Calls central's API with the config token (every permission). */
  const admin = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${c.apiToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };

  /** Logs in over the API and returns the session cookie and CSRF token. */
  const apiLogin = async (username: string, extra: Record<string, string> = {}) => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: PASSWORD, ...extra }),
    });
    assert.equal(res.status, 200, `login of ${username}`);
    const cookie = /siem_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(cookie, 'a session cookie');
    return { cookie, csrf: ((await res.json()) as { csrf_token: string }).csrf_token };
  };

  const login = async (page: Page, username: string, code?: () => string) => {
    await page.goto(`${base}/#/overview`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    if (code) {
      await page.waitForSelector('input[name=totp]');
      await page.fill('input[name=totp]', code());
      await page.click('button[type=submit]');
    }
    await page.waitForSelector(`.topbar-right >> text=${username}`);
  };

  before(async (t) => {
    browser = await launchBrowser(t as never);
    if (!browser) return;
    c = await startTestCentral({ type: 'pglite' });
    base = c.central.url();
    for (const [role, username] of Object.entries(USERS)) {
      const created = await admin('POST', '/api/users', {
        username,
        password: PASSWORD,
        role: role === 'totp' ? 'analyst' : role,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    // TOTP for "tom": set up and enable over his own session, as the SPEC's endpoints say.
    const tom = await apiLogin(USERS.totp);
    const headers = {
      cookie: `siem_session=${tom.cookie}`,
      'x-csrf-token': tom.csrf,
      'content-type': 'application/json',
    };
    const setup = (await (
      await fetch(`${base}/api/auth/totp/setup`, { method: 'POST', headers, body: '{}' })
    ).json()) as {
      secret: string;
    };
    totp = new TOTP({ secret: Secret.fromBase32(setup.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    const enabled = await fetch(`${base}/api/auth/totp/enable`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ code: totp.generate() }),
    });
    assert.equal(enabled.status, 200, await enabled.text());

    gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] } },
    );
    await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined), { what: 'gateway connected' });

    // Another origin (another port) serving a page that tries to post to central's API.
    evil = createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><body>
        <form id="f" method="POST" enctype="text/plain" action="${base}/api/alerts/1/comments">
          <input name='{"body":"pwned","x":"' value='"}'></form>
        <script>
          fetch(${JSON.stringify(base)} + '/api/enrollment-tokens', {method: 'POST', mode: 'no-cors',
            credentials: 'include', headers: {'content-type': 'text/plain'}, body: '{}'})
            .finally(() => document.getElementById('f').submit());
        </script></body>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));

    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    analyst = { context, page: await context.newPage() };
  });

  after(async () => {
    await browser?.close();
    evil?.close();
    await gw?.stop();
    await c?.central.stop();
  });

  it('logs in with a password and shows the overview', async (t) => {
    if (!browser) return skipUnmet(t);
    const { page } = analyst;
    await page.goto(`${base}/`);
    await page.waitForSelector('form[aria-label="log in"]');
    await screenshot(page, 'central-login');
    await login(page, USERS.analyst);
    await page.waitForSelector('text=Event rate');
    const csp = (await page.request.get(`${base}/`)).headers()['content-security-policy'];
    assert.match(csp ?? '', /default-src 'self'/);
    assert.match(csp ?? '', /frame-ancestors 'none'/);
    // Live stats arrive over the stream without a reload.
    await page.waitForSelector('[data-live=true]');
  });

  it('shows an alert raised by a simulated attack live in the queue, and acknowledges it', async (t) => {
    if (!browser) return skipUnmet(t);
    const { page } = analyst;
    await page.goto(`${base}/#/alerts`);
    await page.waitForSelector('table.alerts');
    await page.waitForSelector('[data-live=true]');
    // A marker that a reload would erase.
    await page.evaluate(() => Object.assign(globalThis, { __noReload: true }));
    const before = await page.locator('table.alerts tbody tr').count();
    const socket = dgram.createSocket('udp4');
    const now = Date.now();
    for (let i = 0; i < 6; i += 1) {
      socket.send(
        `<38>1 ${new Date(now - (6 - i) * 1000).toISOString()} hmi-7 sshd 99 - - Failed password for root from 192.0.2.66 port ${5000 + i} ssh2`,
        gw.port('udp'),
        '127.0.0.1',
      );
    }
    const row = page.locator('table.alerts tbody tr', { hasText: 'SSH brute force' });
    await row.first().waitFor({ timeout: 20_000 });
    socket.close();
    assert.equal(await page.evaluate(() => (globalThis as { __noReload?: boolean }).__noReload), true);
    assert.ok((await page.locator('table.alerts tbody tr').count()) > before);
    await screenshot(page, 'central-alerts');

    const id = await row.first().getAttribute('data-alert-id');
    assert.ok(id);
    await row.first().locator('a').first().click();
    await page.waitForSelector('text=Triggering events');
    await page.click('button:has-text("Acknowledge")');
    await page.waitForSelector('.pill:has-text("acknowledged")');
    await page.waitForSelector('.timeline >> text=status new → acknowledged');
    await screenshot(page, 'central-alert-detail');
    const stored = await admin('GET', `/api/alerts/${id}`);
    assert.equal(stored.body.status, 'acknowledged');
    const history = stored.body.history as Array<{ actor: string; change: string; to: string }>;
    assert.ok(
      history.some((h) => h.change === 'status' && h.to === 'acknowledged' && h.actor === USERS.analyst),
    );
  });

  it('searches events, shows the histogram and exports what matches', async (t) => {
    if (!browser) return skipUnmet(t);
    const { page } = analyst;
    // The alert lane goes first; wait for its triggering events to be stored too.
    await waitFor(async () => ((await c.events('q=Failed%20password')).length >= 6 ? true : undefined), {
      what: 'the six syslog events at central',
    });
    await page.goto(`${base}/#/search?q=Failed%20password&range=1h`);
    await page.waitForSelector('table.events >> text=Failed password for root');
    await page.waitForSelector('.chart canvas');
    const hits = await page.textContent('[data-testid=hits]');
    assert.match(hits ?? '', /^\s*([6-9]|\d\d+) events/);
    await screenshot(page, 'central-search');
    const href = await page.getAttribute('a:has-text("Export NDJSON")', 'href');
    const exported = await page.request.get(`${base}/${href!.replace(/^\//, '')}`);
    assert.equal(exported.status(), 200);
    const lines = (await exported.text()).trim().split('\n');
    assert.ok(lines.length >= 6);
    assert.ok(lines.every((l) => (JSON.parse(l) as { message: string }).message.includes('Failed password')));
  });

  it('shows the gateways, devices and rules pages', async (t) => {
    if (!browser) return skipUnmet(t);
    const { page } = analyst;
    await page.goto(`${base}/#/gateways`);
    await page.waitForSelector(`tr[data-gateway="${c.gatewayId}"] >> text=online`);
    await screenshot(page, 'central-gateways');
    await page.goto(`${base}/#/devices`);
    await page.waitForSelector('h1:has-text("Devices")');
    await screenshot(page, 'central-devices');
    await page.goto(`${base}/#/rules`);
    await page.waitForSelector('h1:has-text("Rules")');
    await screenshot(page, 'central-rules');
    // Tablet width: the navigation folds behind the menu button.
    await page.setViewportSize({ width: 680, height: 1000 });
    await page.goto(`${base}/#/overview`);
    await page.waitForSelector('.menu-toggle');
    assert.equal(await page.isVisible('.topbar nav'), false);
    await screenshot(page, 'central-overview-narrow');
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  it('logs in with a TOTP second factor', async (t) => {
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext();
    const page = await context.newPage();
    // The enabling code's step is spent: use the next one (RFC 6238 §5.2, ±1 step accepted).
    await login(page, USERS.totp, () => totp.generate({ timestamp: Date.now() + 30_000 }));
    await screenshot(page, 'central-overview');
    await context.close();
  });

  it('refuses a viewer an admin action, in the UI and by the API', async (t) => {
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext();
    const page = await context.newPage();
    await login(page, USERS.viewer);
    assert.equal(
      await page.locator('.topbar nav a:has-text("Users")').count(),
      0,
      'no admin pages in the menu',
    );
    await page.goto(`${base}/#/users`);
    await page.waitForSelector('.error:has-text("Not allowed")');
    await page.goto(`${base}/#/gateways`);
    assert.equal(await page.isDisabled('button:has-text("Create enrollment token")'), true);
    await page.goto(`${base}/#/alerts/1`);
    assert.equal(await page.isDisabled('button:has-text("Acknowledge")'), true);
    await screenshot(page, 'central-viewer-refused');
    // The server is the enforcement: the same requests from the viewer's own session.
    const statuses = await page.evaluate(async () => {
      const me = (await (await fetch('/api/auth/me')).json()) as { csrf_token: string };
      const h = { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token };
      const token = await fetch('/api/enrollment-tokens', { method: 'POST', headers: h, body: '{}' });
      const users = await fetch('/api/users');
      const ack = await fetch('/api/alerts/1', {
        method: 'PATCH',
        headers: h,
        body: '{"status":"resolved"}',
      });
      return [token.status, users.status, ack.status];
    });
    assert.deepEqual(statuses, [403, 403, 403]);
    await context.close();
  });

  it('shows an admin the users and the audit log', async (t) => {
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await login(page, USERS.admin);
    await page.goto(`${base}/#/users`);
    await page.waitForSelector(`tr[data-user="${USERS.viewer}"]`);
    await screenshot(page, 'central-users');
    await page.goto(`${base}/#/audit`);
    await page.waitForSelector(`td:has-text("${USERS.analyst}")`);
    await screenshot(page, 'central-audit');
    await context.close();
  });

  it('rejects a cross-origin post carrying the session cookie (CSRF)', async (t) => {
    if (!browser) return skipUnmet(t);
    const { page, context } = analyst;
    const before = await admin('GET', '/api/alerts/1');
    const tokensBefore = (await admin('GET', '/api/audit?action=POST%20/api/enrollment-tokens')).body;
    const evilPage = await context.newPage();
    const refused = evilPage.waitForResponse((r) => r.url().includes('/api/alerts/1/comments'));
    await evilPage.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    const response = await refused;
    assert.equal(response.status(), 403);
    const afterAlert = await admin('GET', '/api/alerts/1');
    assert.deepEqual(afterAlert.body.comments, before.body.comments, 'no comment was added');
    const tokensAfter = (await admin('GET', '/api/audit?action=POST%20/api/enrollment-tokens')).body;
    const created = (e: { entries: Array<{ outcome: string }> }) =>
      e.entries.filter((x) => x.outcome === '201').length;
    assert.equal(
      created(tokensAfter as never),
      created(tokensBefore as never),
      'no enrollment token was created',
    );
    await evilPage.close();
    // The analyst's own page still works with its CSRF token.
    await page.goto(`${base}/#/alerts/1`);
    await page.fill('textarea[name=comment]', 'checked with the plant');
    await page.click('button:has-text("Add comment")');
    await page.waitForSelector('.timeline >> text=commented: checked with the plant');
  });

  it('replaces a planted session id at login (no session fixation)', async (t) => {
    if (!browser) return skipUnmet(t);
    // The attacker holds a real session of their own and plants its id in the victim's browser.
    const attacker = await apiLogin(USERS.viewer);
    const context = await browser.newContext();
    const url = new URL(base);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('input[name=username]');
    // Planted once the login form is up, so the login request itself presents it.
    await context.addCookies([
      { name: 'siem_session', value: attacker.cookie, domain: url.hostname, path: '/' },
    ]);
    await page.fill('input[name=username]', USERS.analyst);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('.topbar-right', { hasText: USERS.analyst }).or(page.locator('form .error')).waitFor();
    const refusal = page.locator('form .error');
    assert.equal((await refusal.count()) ? await refusal.textContent() : null, null, 'the login succeeds');
    const cookies = await context.cookies(base);
    const now = cookies.find((k) => k.name === 'siem_session');
    assert.ok(now && now.value !== attacker.cookie, 'a new session id after login');
    assert.equal(now.httpOnly, true);
    assert.equal(now.sameSite, 'Strict');
    const planted = await fetch(`${base}/api/auth/me`, {
      headers: { cookie: `siem_session=${attacker.cookie}` },
    });
    assert.equal(planted.status, 401, 'the planted session is destroyed at login');
    await context.close();
  });
});
