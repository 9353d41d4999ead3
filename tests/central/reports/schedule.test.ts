/**
 * Scheduled reports on a real PostgreSQL shared by two central nodes (two stores, two pools, two
 * schedulers): ticking both at once, again and again, makes each (schedule, period) exactly once
 * between them; periods follow each schedule's time zone; after downtime the missed periods up to
 * `catch_up_periods` are made and no more; a claim left running by a dead node is taken over
 * after `stale_claim_secs`, a fresh one is not; the scheduled report states the seeded figures.
 * PDFs are off here (a printer that declines): the PDF itself is tested in reports-api.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { createLogger } from '../../../central/log.ts';
import { createReports, type Reports } from '../../../central/reports/index.ts';
import type { PdfPrinter } from '../../../central/reports/pdf.ts';
import { createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { skipUnmet } from '../../support/env.ts';
import { requirePostgres, type TempDatabase } from '../../support/postgres.ts';
import { EXPECTED, SITES, seedReportDay, T0 } from './seed.ts';

const NO_PDF: PdfPrinter = {
  unavailable: () => 'PDF off in this test',
  print: () => Promise.resolve({ ok: false, error: 'PDF off in this test' }),
};
const AT = new Date('2026-03-02T01:00:00.000Z');
const DAY_MS = 86_400_000;

const config = centralConfigSchema.parse({
  storage: { type: 'pglite' },
  reports: {
    time_zone: 'UTC',
    sites: SITES,
    stale_claim_secs: 60,
    schedules: [
      { name: 'daily-fleet', period: 'daily', scope: 'fleet', catch_up_periods: 2 },
      {
        name: 'daily-north-berlin',
        period: 'daily',
        scope: 'north',
        time_zone: 'Europe/Berlin',
        catch_up_periods: 2,
      },
      { name: 'weekly-north', period: 'weekly', scope: 'north', catch_up_periods: 2 },
    ],
  },
}).reports;

describe('report schedules on a shared PostgreSQL', () => {
  let db: TempDatabase | undefined;
  const stores: EventStore[] = [];
  let a: Reports;
  let b: Reports;

  before(async (t) => {
    db = await requirePostgres(t);
    if (!db) return;
    for (let i = 0; i < 2; i++) {
      const store = await createPostgresStore({ connectionString: db.url, poolMax: 4 });
      await store.init(new Date(T0));
      stores.push(store);
    }
    await seedReportDay(stores[0]!);
    const make = (node: string, store: EventStore) =>
      createReports({
        config,
        sql: store.sql,
        node,
        centralId: 'central',
        logger: createLogger('silent'),
        printer: NO_PDF,
      });
    a = make('node-a', stores[0]!);
    b = make('node-b', stores[1]!);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    for (const s of stores) await s.close();
    await db?.drop();
  });

  const rows = async () =>
    (
      await stores[0]!.sql.query<{
        schedule: string;
        start: string;
        status: string;
        claimed_by: string;
        attempts: number;
      }>(
        `SELECT schedule, to_char(period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') AS start, status, claimed_by, attempts
           FROM reports WHERE schedule IS NOT NULL ORDER BY schedule, period_start`,
      )
    ).rows;

  it('two nodes ticking at once make each period once, in each schedule’s time zone', async (t) => {
    if (!db) return skipUnmet(t);
    const made: number[] = [];
    const byNode = new Map<number, string>();
    for (let round = 0; round < 3; round++) {
      const [x, y] = await Promise.all([a.tick(AT), b.tick(AT)]);
      made.push(...x, ...y);
      for (const id of x) byNode.set(id, 'node-a');
      for (const id of y) byNode.set(id, 'node-b');
    }
    assert.equal(new Set(made).size, made.length, 'no report made twice');
    assert.equal(made.length, 9);
    const all = await rows();
    assert.deepEqual(
      all.map((r) => `${r.schedule} ${r.start}`),
      [
        'daily-fleet 2026-02-27T00:00Z',
        'daily-fleet 2026-02-28T00:00Z',
        'daily-fleet 2026-03-01T00:00Z',
        'daily-north-berlin 2026-02-26T23:00Z',
        'daily-north-berlin 2026-02-27T23:00Z',
        'daily-north-berlin 2026-02-28T23:00Z',
        'weekly-north 2026-02-09T00:00Z',
        'weekly-north 2026-02-16T00:00Z',
        'weekly-north 2026-02-23T00:00Z',
      ],
    );
    assert.ok(all.every((r) => r.status === 'done' && r.attempts === 1));
    // Each row was made by the node whose tick returned it (which node wins is up to the database).
    const claimedBy = new Map((await a.list(50)).map((r) => [r.id, r.claimed_by]));
    for (const id of made) assert.equal(claimedBy.get(id), byNode.get(id), `report ${id}`);
    const report = (await a.list(50)).find(
      (r) => r.schedule === 'daily-fleet' && r.period_start.startsWith('2026-03-01'),
    )!;
    assert.equal(report.summary.alerts, EXPECTED.fleet.alerts);
    assert.equal(report.summary.buffered_events, EXPECTED.fleet.buffered_events);
    assert.equal(report.pdf_error, 'PDF off in this test');
    assert.deepEqual(report.formats, { html: true, csv: true, pdf: false });
  });

  it('after downtime makes the missed periods up to catch_up_periods, and no more', async (t) => {
    if (!db) return skipUnmet(t);
    const later = new Date(AT.getTime() + 7 * DAY_MS);
    const [x, y] = await Promise.all([a.tick(later), b.tick(later)]);
    assert.equal(x.length + y.length, 3 + 3 + 1, 'three days of each daily schedule, one new week');
    const fleet = (await rows()).filter((r) => r.schedule === 'daily-fleet').map((r) => r.start.slice(0, 10));
    // Mar 2–5 were missed beyond the catch-up window: never made.
    assert.deepEqual(fleet, [
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
    ]);
    const weeks = (await rows())
      .filter((r) => r.schedule === 'weekly-north')
      .map((r) => r.start.slice(0, 10));
    assert.equal(weeks[weeks.length - 1], '2026-03-02');
  });

  it('takes over a claim whose node died, not one still fresh', async (t) => {
    if (!db) return skipUnmet(t);
    const sql = stores[0]!.sql;
    const next = new Date(AT.getTime() + 8 * DAY_MS);
    await sql.query(
      `INSERT INTO reports (schedule, period, scope, time_zone, period_start, period_end, claimed_by, claimed_at)
       VALUES ('daily-fleet', 'daily', 'fleet', 'UTC', '2026-03-09T00:00Z', '2026-03-10T00:00Z', 'dead-node', now() - interval '2 hours'),
              ('daily-north-berlin', 'daily', 'north', 'Europe/Berlin', '2026-03-08T23:00Z', '2026-03-09T23:00Z', 'busy-node', now())`,
    );
    const { rows: demand } = await sql.query<{ id: number }>(
      `INSERT INTO reports (schedule, period, scope, time_zone, period_start, period_end, claimed_by, claimed_at)
       VALUES (NULL, 'daily', 'fleet', 'UTC', '2026-03-01T00:00Z', '2026-03-02T00:00Z', 'dead-node', now() - interval '2 hours')
       RETURNING id::int AS id`,
    );
    const made = [...(await b.tick(next)), ...(await a.tick(next))];
    const all = await rows();
    const stale = all.find((r) => r.schedule === 'daily-fleet' && r.start === '2026-03-09T00:00Z')!;
    assert.equal(stale.status, 'done');
    assert.equal(stale.claimed_by, 'node-b');
    assert.equal(stale.attempts, 2);
    const fresh = all.find((r) => r.schedule === 'daily-north-berlin' && r.start === '2026-03-08T23:00Z')!;
    assert.deepEqual([fresh.status, fresh.claimed_by], ['running', 'busy-node']);
    assert.equal(made.length, 1);
    const orphan = (await a.get(Number(demand[0]!.id)))!;
    assert.deepEqual(
      [orphan.status, orphan.error],
      ['failed', 'its central node stopped before it was made'],
    );
  });
});
