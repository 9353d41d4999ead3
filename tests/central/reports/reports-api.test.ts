/**
 * Reports through central's API, in process on PGlite seeded with a known day (seed.ts): the
 * figures of the fleet report and of each site (alerts by severity, technique and device, top
 * talkers, new devices, gateway health, outages with the events buffered and drained) in the
 * CSV and the HTML; the HTML is self-contained (no script, no external reference) with
 * accessible SVG charts; the PDF is a real one printed by Chromium; without Chromium the report
 * still has HTML and CSV and says why there is no PDF. Permissions: no credentials is 401, a
 * viewer or a token without the `reports` scope is 403, an analyst's `reports` token may.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { buildCentral, type BuiltCentral } from '../../../central/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { collectReportData } from '../../../central/reports/data.ts';
import { createReports } from '../../../central/reports/index.ts';
import { periodContaining, periodLabel } from '../../../central/reports/period.ts';
import { parseCsv } from '../../../central/store/archive-csv.ts';
import { createPgliteStore, type EventStore } from '../../../central/store/index.ts';
import { newApiToken } from '../../../server-shared/web-auth/session.ts';
import type { Permission } from '../../../server-shared/web-auth/types.ts';
import { CHROMIUM_PATH } from '../../support/browser.ts';
import { IN_CI, missingPackage, skipMissing, waitFor } from '../../support/env.ts';
import { DAY, EXPECTED, SITES, seedReportDay, T0 } from './seed.ts';

/** The CSV as { "section|item|metric": value }. */
async function csvMap(text: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let header = true;
  for await (const r of parseCsv(
    (async function* () {
      yield text;
    })(),
  )) {
    if (header) {
      header = false;
      continue;
    }
    out.set(`${r[0]}|${r[1]}|${r[2]}`, r[3] ?? '');
  }
  return out;
}

/** Pages of a PDF: its /Type /Page objects (not /Pages). */
function pdfPages(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
describe('reports API (PGlite)', () => {
  let store: EventStore;
  let built: BuiltCentral;
  const admin = newToken();
  const tokens: Record<string, string> = {};

  async function call(method: string, path: string, token: string | undefined, body?: unknown) {
    const res = await built.app.request(path, {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        'content-type': 'application/json',
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const type = res.headers.get('content-type') ?? '';
    const raw = Buffer.from(await res.arrayBuffer());
    return {
      status: res.status,
      headers: res.headers,
      raw,
      body: type.includes('json') ? JSON.parse(raw.toString('utf8')) : raw.toString('utf8'),
    } as { status: number; headers: Headers; raw: Buffer; body: any };
  }

  async function personalToken(username: string, role: 'viewer' | 'analyst', scopes: Permission[]) {
    const now = new Date();
    if (!(await built.authStore.getUser(username)))
      await built.authStore.createUser({
        username,
        role,
        password_hash: 'scrypt$unused',
        totp_secret: null,
        totp_enabled: false,
        totp_last_step: 0,
        require_totp: false,
        disabled: false,
        created_at: now,
        updated_at: now,
      });
    const token = newApiToken();
    await built.authStore.createToken({
      id: `${username}-${scopes.join('-')}`,
      token_sha256: sha256Hex(token),
      name: `${username} ${scopes.join(',')}`,
      username,
      scopes,
      created_at: now,
      expires_at: null,
      last_used_at: null,
    });
    return token;
  }

  before(async () => {
    store = await createPgliteStore();
    await store.init(new Date(T0));
    await seedReportDay(store);
    const config = centralConfigSchema.parse({
      storage: { type: 'pglite' },
      reports: { time_zone: 'UTC', sites: SITES, chromium_path: CHROMIUM_PATH },
    });
    built = await buildCentral(config, store, {
      metrics: createCentralMetrics({ processMetrics: false }),
      logger: createLogger('silent'),
      apiTokens: [{ name: 'soc-admin', token_sha256: sha256Hex(admin) }],
    });
    tokens.viewer = await personalToken('vera', 'viewer', ['read']);
    tokens.analystRead = await personalToken('ana', 'analyst', ['read']);
    tokens.analystReports = await personalToken('ana', 'analyst', ['reports']);
  });
  after(async () => {
    await built?.stop();
    await store?.close();
  });

  it('states the figures of the seeded day, fleet-wide and per site', async () => {
    const period = periodContaining('daily', T0 + 3_600_000, 'UTC');
    const common = {
      sql: store.sql,
      period,
      label: periodLabel(period),
      bufferedAfterSecs: 120,
      centralId: 'central',
      now: new Date(),
    };
    const fleet = await collectReportData({
      ...common,
      scope: { name: 'fleet', title: 'Fleet', gateways: null },
    });
    const e = EXPECTED.fleet;
    assert.deepEqual(
      {
        alerts: fleet.totals.alerts,
        hits: fleet.totals.alert_hits,
        events: fleet.totals.events,
        new: fleet.totals.new_devices,
        outages: fleet.totals.outages,
        down: fleet.totals.outage_secs,
        buffered: fleet.totals.buffered_events,
        evicted: fleet.totals.evicted_events,
      },
      {
        alerts: e.alerts,
        hits: e.alert_hits,
        events: e.events,
        new: e.new_devices,
        outages: e.outages,
        down: e.outage_secs,
        buffered: e.buffered_events,
        evicted: e.evicted_events,
      },
    );
    assert.deepEqual(
      Object.fromEntries(fleet.alerts_by_severity.map((r) => [r.name, [r.alerts, r.hits]])),
      e.by_severity,
    );
    assert.deepEqual(
      Object.fromEntries(fleet.alerts_by_technique.map((r) => [r.technique, r.alerts])),
      e.by_technique,
    );
    assert.deepEqual(
      Object.fromEntries(fleet.alerts_by_device.map((r) => [r.entity, r.alerts])),
      e.by_device,
    );
    assert.deepEqual(
      Object.fromEntries(fleet.top_talkers.map((r) => [r.ip, [r.events, r.destinations, r.alerts]])),
      e.talkers,
    );
    assert.equal(fleet.top_talkers[0]!.ip, '10.0.0.5', 'top talkers are ordered by events');
    assert.equal(fleet.totals.alert_entities, 4);
    assert.deepEqual(Object.fromEntries(fleet.incidents.map((i) => [i.title, i.alert_count])), e.incidents);
    assert.equal(fleet.totals.incidents, 2);
    assert.deepEqual(
      fleet.new_devices.map((d) => d.device_id),
      ['mqtt:scan-1', 'rogue-hmi'],
    );
    assert.deepEqual(
      fleet.outages.map((o) => [
        o.gateway,
        o.start,
        o.restored,
        o.drained,
        o.buffered_events,
        o.max_delay_secs,
      ]),
      [
        ['gw-north', `${DAY}T14:00:00.000Z`, `${DAY}T14:30:00.000Z`, `${DAY}T14:30:07.000Z`, 9, 1800],
        ['gw-north', `${DAY}T18:00:00.000Z`, `${DAY}T18:10:00.000Z`, `${DAY}T18:10:00.000Z`, 3, 600],
      ],
    );
    const gw = Object.fromEntries(fleet.gateways.map((g) => [g.id, g]));
    assert.deepEqual(Object.keys(gw), ['gw-north', 'gw-old', 'gw-south']);
    assert.deepEqual(
      [
        gw['gw-north']!.events,
        gw['gw-north']!.evicted_events,
        gw['gw-north']!.outages,
        gw['gw-north']!.outage_secs,
      ],
      [26, 42, 2, 2400],
    );
    assert.deepEqual(
      [
        gw['gw-south']!.events,
        gw['gw-south']!.refused_events,
        gw['gw-south']!.clock_skew_events,
        gw['gw-south']!.outages,
      ],
      [4, 7, 1, 0],
    );
    assert.equal(gw['gw-old']!.status, 'revoked');
    assert.equal(fleet.events_over_time.length, 24);
    assert.equal(fleet.events_over_time[10]!.count, 10, 'ten events in the 10:00 hour');
    assert.equal(
      fleet.alerts_over_time.reduce((s, b) => s + b.count, 0),
      5,
    );

    for (const site of ['north', 'south'] as const) {
      const def = SITES.find((s) => s.name === site)!;
      const data = await collectReportData({
        ...common,
        scope: { name: site, title: site, gateways: def.gateways },
      });
      assert.deepEqual(
        [data.totals.alerts, data.totals.events, data.totals.new_devices],
        [EXPECTED[site].alerts, EXPECTED[site].events, EXPECTED[site].new_devices],
        site,
      );
      assert.deepEqual(
        data.gateways.map((g) => g.id),
        def.gateways,
      );
      assert.deepEqual(
        data.incidents.map((i) => i.title),
        EXPECTED[site].incidents,
      );
    }
  });

  it('refuses the anonymous (401), viewers and tokens without the reports scope (403)', async () => {
    assert.equal((await call('GET', '/api/reports', undefined)).status, 401);
    for (const token of [tokens.viewer, tokens.analystRead]) {
      assert.equal((await call('GET', '/api/reports', token)).status, 403);
      assert.equal((await call('POST', '/api/reports', token, { period: 'daily', date: DAY })).status, 403);
      assert.equal((await call('GET', '/api/reports/1/report.csv', token)).status, 403);
    }
    const ok = await call('GET', '/api/reports', tokens.analystReports);
    assert.equal(ok.status, 200);
    assert.deepEqual(
      ok.body.sites.map((s: any) => s.name),
      ['north', 'south'],
    );
  });

  it('validates requests: unknown site, unfinished period, over-long range', async () => {
    const bad = async (body: unknown) => (await call('POST', '/api/reports', admin, body)).body.field;
    assert.equal(await bad({ period: 'daily', date: DAY, scope: 'west' }), 'scope');
    assert.equal(await bad({ period: 'daily', date: '2999-01-01' }), 'date');
    assert.equal(await bad({ period: 'daily' }), 'date');
    assert.equal(
      await bad({ period: 'custom', from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }),
      'to',
    );
  });

  it('makes a fleet report on demand: CSV and HTML with the figures, and a PDF printed by Chromium', async (t) => {
    const started = await call('POST', '/api/reports', tokens.analystReports, { period: 'daily', date: DAY });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = started.body.id as number;
    const row = await waitFor(
      async () => {
        const r = (await call('GET', `/api/reports/${id}`, admin)).body;
        return r.status === 'running' ? undefined : r;
      },
      { what: 'the report made', timeoutMs: 300_000 },
    );
    assert.equal(row.status, 'done', row.error);
    assert.equal(row.requested_by, 'ana');
    const audit = await store.sql.query<{ action: string; outcome: string }>(
      `SELECT action, outcome FROM audit_log WHERE actor = 'ana' AND action LIKE 'POST /api/reports%' ORDER BY id`,
    );
    // Her read-only token's refusal earlier, then this request: both audited.
    assert.deepEqual(
      audit.rows.map((r) => r.outcome),
      ['denied', '202'],
    );
    assert.equal(row.summary.alerts, EXPECTED.fleet.alerts);
    assert.equal(row.title, `Daily report — Fleet — ${DAY}`);

    const csv = await call('GET', `/api/reports/${id}/report.csv`, tokens.analystReports);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment/);
    const m = await csvMap(csv.body);
    assert.equal(m.get('totals|alerts|value'), '5');
    assert.equal(m.get('totals|buffered_events|value'), '12');
    assert.equal(m.get('alerts_by_severity|critical|detections'), '7');
    assert.equal(m.get('alerts_by_technique|T0855|alerts'), '3');
    assert.equal(m.get('top_talkers|10.0.0.66|alerts'), '1');
    assert.equal(
      m.get('gateways|gw-north|evicted_events|') ?? m.get('gateways|gw-north|evicted_events'),
      '42',
    );
    assert.equal(m.get(`outages|gw-north@${DAY}T18:00:00.000Z|buffered_events`), '3');

    const html = await call('GET', `/api/reports/${id}/report.html`, tokens.analystReports);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const page = html.body as string;
    assert.doesNotMatch(page, /<script/i, 'no script');
    assert.doesNotMatch(page, /(src|href)=["']?(https?:)?\/\//i, 'no external reference');
    const charts = page.match(/<svg [^>]*role="img"[^>]*aria-labelledby="([^"]+)"/g) ?? [];
    assert.ok(charts.length >= 8, `charts: ${charts.length}`);
    assert.match(
      page,
      /<title id="[^"]+">Alerts by severity<\/title><desc id="[^"]+">critical: 2 alerts; error: 1 alerts/,
    );
    assert.match(page, /gw-north: down from 2026-03-01 14:00 to 2026-03-01 14:30/);
    assert.ok(page.includes('=cmd|calc'), 'device names shown');
    assert.doesNotMatch(page, /<td>[^<]*<img/);

    if (row.pdf_error) {
      if (IN_CI) assert.fail(row.pdf_error);
      skipMissing(t, missingPackage('chromium', 'chromium'));
      return;
    }
    const pdf = await call('GET', `/api/reports/${id}/report.pdf`, tokens.analystReports);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.equal(pdf.raw.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdf.raw.subarray(-1024).toString('latin1'), /%%EOF\s*$/);
    const pages = pdfPages(pdf.raw);
    assert.ok(pages >= 2 && pages <= 12, `a report of a few A4 pages, got ${pages}`);
    assert.ok(pdf.raw.length > 20_000 && pdf.raw.length < 5_000_000, `PDF size ${pdf.raw.length}`);

    const list = await call('GET', '/api/reports', tokens.analystReports);
    assert.deepEqual(list.body.reports[0].formats, { html: true, csv: true, pdf: true });
  });

  it('without Chromium: HTML and CSV, and the PDF says why it is missing', async () => {
    const reports = createReports({
      config: centralConfigSchema.parse({
        storage: { type: 'pglite' },
        reports: { sites: SITES, chromium_path: '/nonexistent/chromium' },
      }).reports,
      sql: store.sql,
      node: 'test',
      centralId: 'central',
      logger: createLogger('silent'),
    });
    const period = periodContaining('daily', T0, 'UTC');
    const id = (await reports.requestReport(period, reports.scopeOf('north')!, 'test'))!;
    const row = await waitFor(
      async () => {
        const r = await reports.get(id);
        return r?.status === 'running' ? undefined : r;
      },
      { what: 'report without Chromium' },
    );
    assert.equal(row.status, 'done');
    assert.deepEqual(row.formats, { html: true, csv: true, pdf: false });
    assert.match(row.pdf_error ?? '', /PDF unavailable: no Chromium at \/nonexistent\/chromium/);
    const pdf = await call('GET', `/api/reports/${id}/report.pdf`, admin);
    assert.equal(pdf.status, 404);
    assert.match(pdf.body.error, /PDF unavailable/);
    assert.equal((await call('GET', `/api/reports/${id}/report.csv`, admin)).status, 200);
    await reports.stop();
  });
});
