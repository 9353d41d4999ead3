/**
 * Keyed raises (migration 020, central/alerts/raise.ts), on PGlite and on PostgreSQL: the same
 * content raised again by the same actor (what a new cluster leader or a restarted node raises
 * again after replaying its windows) changes nothing; another hit, another actor or an unkeyed
 * raise (the API's) still counts; keys older than a day are pruned.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAlerts, RAISE_KEY_HOURS } from '../../../central/alerts/index.ts';
import { raiseAlert, raiseKey } from '../../../central/alerts/raise.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { IN_CI, waitFor } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';

const hit = (eventId: string, count = 1) => ({
  rule: { id: 'r-once', title: 'Once', level: 'high' as const },
  entity: { host: 'plc-1' },
  event_ids: [eventId],
  count,
  at: '2026-03-01T10:00:00.000Z',
});

function suite(name: string, open: () => Promise<EventStore | undefined>) {
  describe(`keyed alert raises (${name})`, () => {
    let store: EventStore | undefined;
    before(async () => {
      store = await open();
      await store?.init(new Date());
    });
    after(async () => store?.close());

    it('counts a hit raised again once, and distinct hits each', async (t) => {
      if (!store) return t.skip('PostgreSQL is not available');
      const options = { groupWindowMs: 300_000, now: () => new Date('2026-03-01T10:00:05.000Z') };
      const raise = (input: ReturnType<typeof hit>, actor: string, keyed = true) =>
        raiseAlert(store!.sql, input, { ...options, ...(keyed && { key: raiseKey(input, actor) }) });
      const first = await raise(hit('gw:1'), 'central:detection');
      assert.equal(first.outcome, 'created');
      assert.deepEqual(await raise(hit('gw:1'), 'central:detection'), { outcome: 'repeated' });
      assert.equal((await raise(hit('gw:2'), 'central:detection')).alert?.count, 2, 'another hit');
      assert.equal((await raise(hit('gw:2', 3), 'central:detection')).alert?.count, 5, 'another count');
      assert.equal((await raise(hit('gw:1'), 'gateway:gw')).alert?.count, 6, 'another actor');
      assert.equal((await raise(hit('gw:1'), 'soc', false)).alert?.count, 7, 'unkeyed');
      assert.equal((await raise(hit('gw:1'), 'soc', false)).alert?.count, 8, 'unkeyed again');
      assert.notEqual(raiseKey(hit('gw:1'), 'a'), raiseKey(hit('gw:1'), 'b'));
    });

    it('prunes keys older than a day', async (t) => {
      if (!store) return t.skip('PostgreSQL is not available');
      let now = new Date('2026-03-02T10:00:00.000Z');
      const alerts = createAlerts({
        sql: store.sql,
        metrics: createCentralMetrics({ processMetrics: false }),
        groupWindowSecs: 300,
        now: () => now,
      });
      await alerts.raise(hit('gw:old'), 'central:detection', { once: true });
      now = new Date(now.getTime() + (RAISE_KEY_HOURS + 1) * 3_600_000);
      await alerts.raise(hit('gw:new'), 'central:detection', { once: true });
      const keys = async () =>
        (await store!.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_raise_keys')).rows[0]!.n;
      // The first raise pruned nothing older; the one a day later drops the first key.
      await waitFor(async () => ((await keys()) === 1 ? true : undefined), { what: 'the old key pruned' });
      const again = await alerts.raise(hit('gw:new'), 'central:detection', { once: true });
      assert.equal(again.outcome, 'repeated');
    });
  });
}

suite('pglite', () => createPgliteStore());
const db = await createTempDatabase();
if ('error' in db && IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
suite('postgres', async () =>
  'error' in db ? undefined : createPostgresStore({ connectionString: db.url, poolMax: 4 }),
);
after(async () => {
  if (!('error' in db)) await db.drop();
});
