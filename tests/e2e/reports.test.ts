/**
 * The SOC dashboard's Reports page end to end in Debian's Chromium, against a real central (PGlite)
 * seeded with a known day: an analyst opens Reports from the navigation, makes the North plant's
 * daily report for that day, sees it listed as done with its figures, opens the HTML (charts
 * drawn, no script) and downloads the PDF and CSV with her session; a viewer has no Reports entry
 * and is refused by the server when she goes there anyway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { type Central, startCentral } from '../../central/index.ts';
import { createLogger } from '../../central/log.ts';
import { CHROMIUM_PATH, launchBrowser, screenshot } from '../support/browser.ts';
import { skipUnmet } from '../support/env.ts';
import { DAY, EXPECTED, SITES, seedReportDay } from '../central/reports/seed.ts';

const PASSWORD = 'correct horse battery';

describe('Reports page in a browser', () => {
  let browser: Browser | undefined;
  let central: Central;
  let base: string;
  const token = newToken();

  const login = async (page: Page, username: string) => {
    await page.goto(`${base}/#/overview`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector(`.topbar-right >> text=${username}`);
  };

  before(async (t) => {
    browser = await launchBrowser(t as never);
    if (!browser) return;
    central = await startCentral(
      centralConfigSchema.parse({
        http: { listen: '127.0.0.1:0' },
        storage: { type: 'pglite' },
        api: { tokens: [{ name: 'test', token_sha256: sha256Hex(token) }] },
        reports: { time_zone: 'UTC', sites: SITES, chromium_path: CHROMIUM_PATH },
        log: { level: 'warn' },
      }),
      { logger: createLogger('warn'), processMetrics: false, printSecret: () => undefined },
    );
    base = central.url();
    await seedReportDay(central.store);
    for (const [username, role] of [
      ['rita', 'analyst'],
      ['vic', 'viewer'],
    ] as const) {
      const res = await fetch(`${base}/api/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD, role }),
      });
      assert.equal(res.status, 201);
    }
  });
  after(async () => {
    await browser?.close();
    await central?.stop();
  });

  it('an analyst makes a site report for a day and opens and downloads it', async (t) => {
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext({
      viewport: { width: 1366, height: 900 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    await login(page, 'rita');
    await page.click('nav >> text=Reports');
    await page.waitForSelector('[data-testid=reports-table]');
    await page.fill('input[name=date]', DAY);
    await page.selectOption('select[name=scope]', 'north');
    await page.click('button:has-text("Make report")');
    await page.waitForSelector('[data-testid=reports-notice]');
    const row = page.locator('tr[data-report]').first();
    await row.locator('text=done').waitFor({ timeout: 300_000 });
    const text = (await row.textContent()) ?? '';
    assert.match(text, new RegExp(`Daily report — North plant — ${DAY}`));
    assert.match(text, /rita/);
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[3], String(EXPECTED.north.alerts));
    assert.equal(cells[4], String(EXPECTED.north.events));
    await screenshot(page, 'central-reports');

    // The HTML in a new tab: charts drawn, nothing run.
    const [tab] = await Promise.all([
      context.waitForEvent('page'),
      row.locator('a:has-text("HTML")').click(),
    ]);
    await tab.waitForLoadState();
    assert.match(await tab.title(), /North plant/);
    const charts = tab.locator('svg[role=img]');
    assert.ok((await charts.count()) >= 8);
    const box = await charts.first().boundingBox();
    assert.ok(box && box.width > 200 && box.height > 20, 'the first chart is drawn');
    assert.equal(await tab.locator('script').count(), 0);
    await screenshot(tab, 'central-report-html');

    // PDF and CSV downloads with the session.
    const [pdf] = await Promise.all([
      page.waitForEvent('download'),
      row.locator('a:has-text("PDF")').click(),
    ]);
    const pdfBytes = Buffer.concat(await streamChunks(await pdf.createReadStream()));
    assert.equal(pdfBytes.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdf.suggestedFilename(), /\.pdf$/);
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      row.locator('a:has-text("CSV")').click(),
    ]);
    const csvText = Buffer.concat(await streamChunks(await csv.createReadStream())).toString('utf8');
    assert.match(csvText, new RegExp(`"totals","alerts","value","${EXPECTED.north.alerts}"`));
    await context.close();
  });

  it('a viewer has no Reports entry and the server refuses the page', async (t) => {
    if (!browser) return skipUnmet(t);
    const context = await browser.newContext();
    const page = await context.newPage();
    await login(page, 'vic');
    assert.equal(await page.locator('nav >> text=Reports').count(), 0);
    await page.goto(`${base}/#/reports`);
    await page.waitForSelector('p.error[role=alert] >> text=Not allowed');
    await context.close();
  });
});

async function streamChunks(stream: NodeJS.ReadableStream): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return chunks;
}
