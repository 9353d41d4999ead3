/**
 * Conformance: the partition lifecycle. Bulk writes (COPY on PostgreSQL, unnest on PGlite) keep
 * every character COPY's text format must escape; retention drops exactly the expired daily
 * partitions and nothing else; an archived partition restores to identical rows (every column,
 * `stored_at` included) from NDJSON and from CSV, refuses a damaged archive, and a drop is
 * refused when rows arrived after the archive was taken. Old days (30–45 days back) keep these
 * tests apart from the others sharing the store.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { createHash } from 'node:crypto';
import { createDailyPartitions, partitionName } from '../../../central/store/partitions.ts';
import { applyRetention, dropPartition } from '../../../central/store/retention.ts';
import { restoreArchive } from '../../../central/store/restore.ts';
import { pruneRows } from '../../../central/store/retention-rows.ts';
import { archivePartition } from '../../../central/store/archive.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import type { SuiteContext } from './conformance.ts';
import { iso, makeEvent, startOfUtcDay, uniqueGateway } from './fixtures.ts';

const DAY_MS = 86_400_000;
const HOSTILE = 'tab\there\nnew\rline \\N \\\\ back\\slash "q" \'s\' ,comma; |pipe| =eq 🛢️ \u2028';

function hostileEvent(gateway: string, seq: number, ts: string): Event {
  return makeEvent(gateway, seq, ts, {
    message: `${HOSTILE} #${seq}`,
    host: `h\t${seq}\\`,
    device: { id: `dev\n${seq % 3}`, name: '\\N' },
    src: { ip: '10.0.0.1', port: seq % 65_536 },
    fields: { text: HOSTILE, list: ['\t', '\\', null], n: seq },
    tags: ['a\tb', '\\N', '', 'c"d', '{x,y}'],
    ...(seq % 2 === 0 && { threat: { rule_id: 'r\t1', techniques: ['T0836'] } }),
  });
}

async function rowsOf(ctx: SuiteContext, from: number, to: number): Promise<string[]> {
  const { rows } = await ctx.store.sql.query<{ r: string }>(
    `SELECT to_jsonb(t)::text AS r FROM events t WHERE ts >= $1::timestamptz AND ts < $2::timestamptz
      ORDER BY ts, gateway, seq`,
    [iso(from), iso(to)],
  );
  return rows.map((r) => r.r);
}

async function names(ctx: SuiteContext): Promise<string[]> {
  return (await ctx.store.listPartitions()).map((p) => p.name);
}

export function lifecycleCases(ctx: SuiteContext): void {
  const today = startOfUtcDay(new Date());
  const noon = new Date(today + 12 * 3_600_000);

  it('stores tabs, newlines, backslashes, \\N and quotes in every text column unchanged', async () => {
    const gateway = uniqueGateway('copy');
    const events = [1, 2, 3, 4].map((seq) => hostileEvent(gateway, seq, iso(today - 2 * DAY_MS + seq)));
    assert.deepEqual(await ctx.store.insertEvents(events), { inserted: 4, duplicates: 0 });
    assert.deepEqual(await ctx.store.insertEvents(events), { inserted: 0, duplicates: 4 });
    assert.deepEqual((await ctx.store.queryEvents({ gateway, limit: 10 })).events, [...events].reverse());
  });

  it('retention drops exactly the partitions whose events are all older than events_days', async () => {
    const days = [-33, -32, -31, -30, -29, -28].map((d) => today + d * DAY_MS);
    await createDailyPartitions(ctx.store.sql, days);
    const gateway = uniqueGateway('retention');
    await ctx.store.insertEvents(days.map((day, i) => makeEvent(gateway, i + 1, iso(day + 3_600_000))));
    const before = await names(ctx);

    const { dropped, failed } = await applyRetention(ctx.store.sql, { eventsDays: 30 }, noon);
    assert.deepEqual(failed, []);
    const expected = days.slice(0, 3).map(partitionName); // their day ended more than 30 days before noon
    assert.deepEqual(
      dropped.map((d) => [d.name, d.rows]),
      expected.map((n) => [n, 1]),
    );
    assert.deepEqual(
      await names(ctx),
      before.filter((n) => !expected.includes(n)),
    );
    const left = (await ctx.store.queryEvents({ gateway, limit: 10 })).events.map((e) => e.seq);
    assert.deepEqual(left, [6, 5, 4]);
    // 0 keeps everything; a second run finds nothing more to drop.
    assert.deepEqual((await applyRetention(ctx.store.sql, { eventsDays: 0 }, noon)).dropped, []);
    assert.deepEqual((await applyRetention(ctx.store.sql, { eventsDays: 30 }, noon)).dropped, []);
    // Clean up: what is left of these old days (none of the window around today).
    const cleanup = await applyRetention(ctx.store.sql, { eventsDays: 27 }, noon);
    assert.deepEqual(
      cleanup.dropped.map((d) => d.name),
      days.slice(3).map(partitionName),
    );
  });

  it('prunes closed alerts, finished outbox rows and old audit rows past their retention, never open ones', async () => {
    const sql = ctx.store.sql;
    const at = (daysAgo: number) => new Date(noon.getTime() - daysAgo * DAY_MS).toISOString();
    const rule = uniqueGateway('prune-rule');
    const alert = async (status: string, updatedDaysAgo: number) => {
      const { rows } = await sql.query<{ id: string }>(
        `INSERT INTO alerts (rule_id, rule_title, severity, entity_type, entity, first_seen, last_seen, status, updated_at)
         VALUES ($1, 't', 3, 'host', $2, $3::timestamptz, $3::timestamptz, $2, $3::timestamptz) RETURNING id`,
        [rule, status, at(updatedDaysAgo)],
      );
      return rows[0]!.id;
    };
    const oldResolved = await alert('resolved', 400);
    const oldFalse = await alert('false_positive', 400);
    const oldOpen = await alert('new', 400);
    const oldAcked = await alert('acknowledged', 400);
    const recentResolved = await alert('resolved', 10);
    await sql.query(`INSERT INTO alert_comments (alert_id, author, body) VALUES ($1, 'a', 'gone with it')`, [
      oldResolved,
    ]);
    const outbox = async (alertId: string, status: string, doneDaysAgo: number | null) =>
      sql.query(
        `INSERT INTO sink_outbox (sink, alert_id, payload, idempotency_key, status, done_at)
         VALUES ('s', $1, '{}'::jsonb, $2, $3, $4::timestamptz)`,
        [
          alertId,
          `${rule}-${alertId}-${status}-${doneDaysAgo}`,
          status,
          doneDaysAgo === null ? null : at(doneDaysAgo),
        ],
      );
    await outbox(oldOpen, 'delivered', 30);
    await outbox(oldOpen, 'rejected', 30);
    await outbox(oldOpen, 'pending', null);
    await outbox(oldAcked, 'delivered', 2);
    const audit = async (daysAgo: number) =>
      sql.query(
        `INSERT INTO audit_log (ts, actor, action, outcome) VALUES ($1::timestamptz, $2, 'login', 'ok')`,
        [at(daysAgo), `${rule}-${daysAgo}`],
      );
    await audit(400);
    await audit(366);
    await audit(364);

    const pruned = await pruneRows(sql, { alertsDays: 365, outboxDays: 7, auditDays: 365 }, noon);
    // The two closed old alerts, the two finished outbox rows older than 7 days, the two audit
    // rows older than a year.
    assert.deepEqual(pruned, { alerts: 2, outbox: 2, audit: 2 });
    const audited = await sql.query<{ actor: string }>('SELECT actor FROM audit_log WHERE actor LIKE $1', [
      `${rule}-%`,
    ]);
    assert.deepEqual(
      audited.rows.map((r) => r.actor),
      [`${rule}-364`],
    );
    const left = await sql.query<{ id: string }>('SELECT id FROM alerts WHERE rule_id = $1 ORDER BY id', [
      rule,
    ]);
    assert.deepEqual(
      left.rows.map((r) => r.id),
      [oldOpen, oldAcked, recentResolved],
    );
    assert.equal(
      (await sql.query('SELECT 1 FROM alert_comments WHERE alert_id = $1', [oldFalse])).rows.length +
        (await sql.query('SELECT 1 FROM alert_comments WHERE alert_id = $1', [oldResolved])).rows.length,
      0,
    );
    const statuses = await sql.query<{ status: string }>(
      'SELECT status FROM sink_outbox WHERE alert_id IN ($1, $2) ORDER BY status',
      [oldOpen, oldAcked],
    );
    assert.deepEqual(
      statuses.rows.map((r) => r.status),
      ['delivered', 'pending'],
    );
    // 0 keeps everything.
    assert.deepEqual(
      await pruneRows(sql, { alertsDays: 0, outboxDays: 0, auditDays: 0 }, new Date(noon.getTime() + 9e12)),
      {
        alerts: 0,
        outbox: 0,
        audit: 0,
      },
    );
  });

  for (const format of ['ndjson', 'csv'] as const) {
    it(`archives a partition as ${format}.gz with a manifest and restores identical rows`, async () => {
      const day = today + (format === 'ndjson' ? -40 : -41) * DAY_MS;
      await createDailyPartitions(ctx.store.sql, [day]);
      const gateway = uniqueGateway(`archive-${format}`);
      // More than one archive page (1000 rows), µs timestamps, hostile text, NULLs.
      const events = Array.from({ length: 2100 }, (_, i) =>
        i % 7 === 0
          ? hostileEvent(gateway, i + 1, `${iso(day + i * 1000).slice(0, -1)}123Z`)
          : makeEvent(gateway, i + 1, iso(day + i * 1000)),
      );
      await ctx.store.insertEvents(events);
      const original = await rowsOf(ctx, day, day + DAY_MS);
      assert.equal(original.length, events.length);

      const dir = await mkdtemp(path.join(tmpdir(), 'siem-archive-'));
      try {
        const { dropped, failed } = await applyRetention(
          ctx.store.sql,
          { eventsDays: 39, archive: { dir, format } },
          noon,
        );
        assert.deepEqual(failed, []);
        const entry = dropped.find((d) => d.name === partitionName(day));
        assert.ok(entry?.manifest, 'archived before the drop');
        const manifest = entry.manifest;
        assert.equal(manifest.rows, events.length);
        assert.equal(manifest.format, format);
        const bytes = await readFile(path.join(dir, manifest.file));
        assert.equal(manifest.sha256, createHash('sha256').update(bytes).digest('hex'));
        assert.deepEqual(
          JSON.parse(await readFile(path.join(dir, `${manifest.partition}.manifest.json`), 'utf8')),
          manifest,
        );
        assert.deepEqual(await rowsOf(ctx, day, day + DAY_MS), []);
        assert.ok(!(await names(ctx)).includes(partitionName(day)));

        // A damaged copy is refused before anything is written.
        const damagedDir = await mkdtemp(path.join(tmpdir(), 'siem-archive-bad-'));
        try {
          const damaged = Buffer.from(bytes);
          damaged[damaged.length >> 1] = damaged[damaged.length >> 1]! ^ 0xff;
          await writeFile(path.join(damagedDir, manifest.file), damaged);
          await copyFile(
            path.join(dir, `${manifest.partition}.manifest.json`),
            path.join(damagedDir, `${manifest.partition}.manifest.json`),
          );
          await assert.rejects(
            restoreArchive(ctx.store.sql, path.join(damagedDir, manifest.file)),
            /damaged/,
          );
        } finally {
          await rm(damagedDir, { recursive: true, force: true });
        }
        assert.deepEqual(await rowsOf(ctx, day, day + DAY_MS), []);

        const restored = await restoreArchive(ctx.store.sql, path.join(dir, manifest.file));
        assert.deepEqual([restored.rows, restored.inserted], [events.length, events.length]);
        assert.deepEqual(await rowsOf(ctx, day, day + DAY_MS), original, 'identical rows, every column');
        assert.ok((await names(ctx)).includes(partitionName(day)), 'restored into its own day partition');
        const again = await restoreArchive(
          ctx.store.sql,
          path.join(dir, `${manifest.partition}.manifest.json`),
        );
        assert.equal(again.inserted, 0, 'restoring twice stores nothing twice');
      } finally {
        await rm(dir, { recursive: true, force: true });
        await dropPartition(ctx.store.sql, partitionName(day));
      }
    });
  }

  it('refuses to drop a partition that changed after it was archived', async () => {
    const day = today - 42 * DAY_MS;
    await createDailyPartitions(ctx.store.sql, [day]);
    const gateway = uniqueGateway('late');
    await ctx.store.insertEvents([makeEvent(gateway, 1, iso(day + 1000))]);
    const dir = await mkdtemp(path.join(tmpdir(), 'siem-archive-'));
    try {
      const manifest = await archivePartition(ctx.store.sql, partitionName(day), { dir, format: 'ndjson' });
      await ctx.store.insertEvents([makeEvent(gateway, 2, iso(day + 2000))]);
      await assert.rejects(dropPartition(ctx.store.sql, partitionName(day), manifest.rows), /holds 2 rows/);
      assert.ok((await names(ctx)).includes(partitionName(day)), 'still attached');
      assert.equal((await ctx.store.queryEvents({ gateway, limit: 10 })).events.length, 2);
      assert.equal(await dropPartition(ctx.store.sql, partitionName(day), 2), 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
