/**
 * The SOC dashboard's Playbooks page in Debian's Chromium (issue 21 ask 4): an admin's playbook
 * that disables a user after approval; an alert makes a pending run; an analyst sees it waiting,
 * approves it in the browser, sees the actions succeeded (the user is disabled, an incident is
 * open), may not give the user her access back (an admin's call) and undoes the incident (audited
 * under her name). The analyst cannot edit playbooks (no
 * editor offered; the server refuses anyway), the admin can create one from the page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { skipUnmet, waitFor } from '../support/env.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';

const PASSWORD = 'correct horse battery';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
describe('SOC playbooks page in a browser', () => {
  let browser: Browser | undefined;
  let c: TestCentral;
  let base: string;
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${c.apiToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
  const login = async (page: Page, username: string, password = PASSWORD) => {
    await page.goto(`${base}/#/playbooks`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
  };

  before(async (t) => {
    browser = await launchBrowser(t as never);
    if (!browser) return;
    c = await startTestCentral({ type: 'pglite' });
    base = c.central.url();
    for (const [username, role] of [
      ['ana', 'analyst'],
      ['mallory', 'viewer'],
    ] as const) {
      const created = await call('POST', '/api/users', { username, password: PASSWORD, role });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
  });
  after(async () => {
    await browser?.close();
    await c?.central.stop();
  });

  it('an analyst approves a pending run, sees its outcome and undoes it', async (t) => {
    if (!browser) return skipUnmet(t);
    const created = await call('POST', '/api/playbooks', {
      id: 'lock-out',
      name: 'Lock the insider out',
      approval: true,
      match: { rule_ids: ['insider'] },
      actions: [{ type: 'disable_user', username: 'mallory' }, { type: 'open_incident' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const raised = await call('POST', '/api/alerts', {
      rule: { id: 'insider', title: 'Insider exfiltration', level: 'high' },
      entity: { host: 'hmi-1' },
    });
    assert.equal(raised.status, 201);
    await waitFor(async () => (await call('GET', '/api/playbook-runs?status=pending')).body.runs[0], {
      timeoutMs: 60_000,
      what: 'the pending run',
    });

    const context = await browser.newContext();
    const page = await context.newPage();
    await login(page, 'ana');
    const row = page.locator('table.pending-runs tr', { hasText: 'Lock the insider out' });
    await row.waitFor();
    assert.equal(
      await page.locator('button', { hasText: 'New playbook' }).count(),
      0,
      'analysts do not edit',
    );
    await screenshot(page, 'playbooks-pending');
    await row.locator('button', { hasText: 'Approve' }).click();
    const action = page.locator('table.playbook-runs li[data-status=succeeded]', { hasText: 'mallory' });
    await action.waitFor();
    assert.equal(
      (await call('GET', '/api/users')).body.users.find((u: any) => u.username === 'mallory').disabled,
      true,
    );
    // Giving mallory her access back is an admin's call: the analyst's Undo is disabled there.
    assert.equal(await action.locator('button', { hasText: 'Undo' }).isDisabled(), true);
    // The incident the run opened she may take back (closed as a false positive).
    const incident = page.locator('table.playbook-runs li[data-status=succeeded]', {
      hasText: 'open incident',
    });
    await incident.locator('button', { hasText: 'Undo' }).click();
    await page.locator('table.playbook-runs li[data-status=undone]', { hasText: 'undone by ana' }).waitFor();
    assert.equal(
      (await call('GET', '/api/users')).body.users.find((u: any) => u.username === 'mallory').disabled,
      true,
    );
    await screenshot(page, 'playbooks-undone');
    const audit = (await call('GET', '/api/playbook-audit')).body.audit.map(
      (e: any) => `${e.actor} ${e.what}`,
    );
    assert.ok(audit.includes('ana approved') && audit.includes('ana undone'), audit.join('\n'));
    await context.close();
  });

  it('an admin creates a playbook from the page', async (t) => {
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext();
    const page = await context.newPage();
    await login(page, c.admin.username, c.admin.password);
    await page.locator('button', { hasText: 'New playbook' }).click();
    const playbook = {
      id: 'edge-block',
      name: 'Block brute-forcers',
      match: { techniques: ['T0812'] },
      actions: [{ type: 'mqtt_block_address', expire_secs: 600 }],
    };
    await page.fill('textarea[name=playbook]', JSON.stringify(playbook));
    await page.click('form.playbook-editor button[type=submit]');
    await page.locator('table.playbooks tr[data-playbook=edge-block]').waitFor();
    const stored = (await call('GET', '/api/playbooks/edge-block')).body;
    assert.equal(stored.updated_by, c.admin.username);
    assert.deepEqual(stored.actions, playbook.actions);
    await context.close();
  });
});
