/**
 * The lifecycle job and its commands on a real PostgreSQL: the DEFAULT partition is counted as a
 * metric and reported by a `central.default_partition_rows` health event (once per growth, not
 * every hour); `siem-central lifecycle` archives and drops an expired partition and
 * `siem-central archive restore` brings identical rows back. Config refuses a retention shorter
 * than the partition window.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../central/cli.ts';
import { storeConfigSchema } from '../../central/store/config.ts';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { createCentralEvents } from '../../central/events.ts';
import { createLifecycleJob } from '../../central/lifecycle.ts';
import { createLogger } from '../../central/log.ts';
import { createCentralMetrics } from '../../central/metrics.ts';
import { createPostgresStore, type EventStore } from '../../central/store/index.ts';
import { createDailyPartitions, partitionName } from '../../central/store/partitions.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';
import { IN_CI } from '../support/env.ts';
import { iso, makeEvent, startOfUtcDay } from './store/fixtures.ts';

const DAY_MS = 86_400_000;
const db = await createTempDatabase();

describe('partition lifecycle job (PostgreSQL)', { skip: 'error' in db && !IN_CI && db.error }, () => {
  let temp: TempDatabase;
  let store: EventStore;
  before(async () => {
    if ('error' in db) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
    temp = db;
    store = await createPostgresStore({ connectionString: temp.url, poolMax: 4 });
    await store.init(new Date());
  });
  after(async () => {
    await store?.close();
    await temp?.drop();
  });

  it('counts the DEFAULT partition and raises a health event when it grows', async () => {
    const metrics = createCentralMetrics({ processMetrics: false });
    const logger = createLogger('silent');
    const config = centralConfigSchema.parse({ storage: { type: 'postgres', url: temp.url } });
    const job = createLifecycleJob({
      store,
      storage: config.storage,
      metrics,
      logger,
      centralEvents: createCentralEvents({ store, centralId: 'central', logger, metrics }),
    });
    const raised = async () =>
      (await store.queryEvents({ gateway: 'central', limit: 100 })).events.filter(
        (e) => e.action === 'central.default_partition_rows',
      );
    const gauge = async () => (await metrics.defaultPartitionRows.get()).values[0]?.value;

    assert.equal((await job.run())?.defaultRows, 0);
    assert.equal(await gauge(), 0);
    assert.deepEqual(await raised(), []);

    await store.insertEvents([makeEvent('gw-x', 1, '1970-01-01T00:00:00.000Z')]);
    assert.equal((await job.run())?.defaultRows, 1);
    assert.equal(await gauge(), 1);
    const first = await raised();
    assert.equal(first.length, 1);
    assert.equal(first[0]?.kind, 'health');
    assert.deepEqual(first[0]?.fields, { rows: 1, max_rows: 0 });

    await job.run();
    assert.equal((await raised()).length, 1, 'not repeated while unchanged');
    await store.insertEvents([makeEvent('gw-x', 2, '2999-01-01T00:00:00.000Z')]);
    await job.run();
    assert.equal((await raised()).length, 2, 'raised again when it grows');
  });

  it('siem-central lifecycle archives and drops; archive restore brings identical rows back', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'siem-cli-'));
    try {
      const day = startOfUtcDay(new Date()) - 60 * DAY_MS;
      await createDailyPartitions(store.sql, [day]);
      const events = [1, 2, 3].map((seq) => makeEvent('gw-cli', seq, iso(day + seq * 60_000)));
      await store.insertEvents(events);
      const snapshot = async () =>
        (
          await store.sql.query<{ r: string }>(
            "SELECT to_jsonb(t)::text AS r FROM events t WHERE gateway = 'gw-cli' ORDER BY seq",
          )
        ).rows.map((r) => r.r);
      const original = await snapshot();
      const configFile = path.join(dir, 'central.yaml');
      await writeFile(
        configFile,
        [
          'storage:',
          '  type: postgres',
          `  url: ${temp.url}`,
          '  retention:',
          '    events_days: 30',
          '    archive:',
          `      dir: ${path.join(dir, 'archive')}`,
          '      format: csv',
          'log: { level: silent }',
          '',
        ].join('\n'),
      );
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
      let code: number;
      try {
        code = await main(['lifecycle', '--config', configFile]);
      } finally {
        process.stdout.write = write;
      }
      assert.equal(code, 0, out.join(''));
      const report = JSON.parse(out.join('')) as { dropped: Array<{ name: string; rows: number }> };
      assert.deepEqual(
        report.dropped.map((d) => [d.name, d.rows]),
        [[partitionName(day), 3]],
      );
      assert.deepEqual(await snapshot(), []);
      const files = (await readdir(path.join(dir, 'archive'))).sort();
      assert.deepEqual(files, [`${partitionName(day)}.csv.gz`, `${partitionName(day)}.manifest.json`]);

      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        code = await main([
          'archive',
          'restore',
          path.join(dir, 'archive', `${partitionName(day)}.csv.gz`),
          '--config',
          configFile,
        ]);
      } finally {
        process.stdout.write = write;
      }
      assert.equal(code, 0);
      assert.deepEqual(await snapshot(), original);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('retention config', () => {
  it('refuses events_days shorter than the partition window, naming the key', () => {
    const result = storeConfigSchema.safeParse({
      type: 'pglite',
      partitions: { past_days: 7 },
      retention: { events_days: 3 },
    });
    assert.ok(!result.success);
    assert.deepEqual(result.error.issues[0]?.path, ['retention', 'events_days']);
    assert.ok(storeConfigSchema.safeParse({ type: 'pglite', retention: { events_days: 7 } }).success);
  });
});
