/**
 * Issue 8's benchmark as a person sees it: the time from an event at the gateway to its alert
 * VISIBLE ON THE SOC PAGE, median and p99, with 1,000 events/s of background syslog load through
 * the gateway. Central on PostgreSQL serves the built dashboard; Debian's Chromium (playwright-core)
 * is logged in and open on the alert queue, where a MutationObserver records, for every row added
 * to the table, `performance.timeOrigin + performance.now()` (wall-clock ms, the same clock as
 * Node's Date.now() on this machine). Each probe is an SSH login on a new host sent as a syslog
 * line over TCP to the gateway (the shipped bundle in its own process, rules/ics plus one probe
 * rule), so each raises a new alert row.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { buildDashboards } from '../../dashboards/build.ts';
import { CHROMIUM_PATH } from '../support/browser.ts';
import { waitFor } from '../support/env.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { startTestCentral } from '../support/stack.ts';
import { percentile, probeLine, startProbeGateway, type ProbeGateway } from './support/probe-gateway.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'SOC dashboard: event at the gateway → alert row on the page';

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no browser at ${CHROMIUM_PATH} (apt install chromium)`);
  const probes = quick ? 20 : 100;
  await buildDashboards();
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  const c = await startTestCentral({ type: 'postgres', url: db.url }, { gatewayId: 'gw-unused' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-background-networking'],
  });
  let gw: ProbeGateway | undefined;
  try {
    gw = await startProbeGateway(c, 'gw-dashboard', {
      prefix: 'dprobe-',
      ruleId: '3c0e1d7a-dashboard-bench-probe',
    });
    const { device } = gw;

    // The analyst's page: logged in, on the alert queue, live stream connected.
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const base = c.central.url();
    await page.goto(`${base}/#/alerts`);
    await page.fill('input[name=username]', c.admin.username);
    await page.fill('input[name=password]', c.admin.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('table.alerts');
    await page.waitForSelector('[data-live=true]');
    // Runs in the page (a string: this project's type check has no DOM library).
    await page.evaluate(`(() => {
      const seen = {};
      globalThis.__rowsSeen = seen;
      const tbody = document.querySelector('table.alerts tbody');
      new MutationObserver((records) => {
        const at = performance.timeOrigin + performance.now();
        for (const r of records)
          for (const node of r.addedNodes) {
            const host = /dprobe-\\d+/.exec(node.textContent || '')?.[0];
            if (host && !(host in seen)) seen[host] = at;
          }
      }).observe(tbody, { childList: true });
    })()`);

    await new Promise((resolve) => setTimeout(resolve, quick ? 2000 : 5000));

    const sentAt = new Map<string, number>();
    for (let i = 0; i < probes; i += 1) {
      const host = `dprobe-${i}`;
      sentAt.set(host, Date.now());
      device.write(probeLine(host, i));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const shown = await waitFor(
      async () => {
        const seen = await page.evaluate(
          () => (globalThis as unknown as { __rowsSeen: Record<string, number> }).__rowsSeen,
        );
        return Object.keys(seen).length >= probes ? seen : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `all ${probes} alert rows on the page` },
    );
    const inOrder = [...sentAt].map(([host, sent]) => Math.round(shown[host]! - sent));
    console.error(`  latencies in send order (ms): ${inOrder.join(' ')}`);
    const latencies = [...inOrder].sort((a, b) => a - b);
    const note = `${probes} alerts, 1,000 events/s syslog background through the gateway; Chromium, MutationObserver on the alert queue; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
    return [
      {
        name: 'syslog at the gateway → alert row visible on the SOC page, median',
        value: percentile(latencies, 50),
        unit: 'ms',
        note,
      },
      {
        name: 'syslog at the gateway → alert row visible on the SOC page, p99',
        value: percentile(latencies, 99),
        unit: 'ms',
        target: { value: 2000, better: 'lower', issue: 8 },
        note,
      },
    ];
  } finally {
    await browser.close();
    await gw?.stop();
    await c.central.stop();
    await db.drop();
  }
}
