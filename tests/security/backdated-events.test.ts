/**
 * Issue 15 item 12, on PGlite and PostgreSQL: a device that backdates its events (ts three days
 * back, arriving now) drops out of every search by `ts`; `time_field=received` finds it in the
 * listing, the histogram, top values and the export, and the store flags it at ingest with the
 * tag `clock_skew` and `fields.clock_skew_ms`, found by `tag=clock_skew`. Small drift and a
 * gateway clock corrected by its measured offset are not flagged. The stores are made by
 * `createStore` from config, so the default `storage.flag_clock_skew_secs` is what is tested.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCentral } from '../../central/index.ts';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { createLogger } from '../../central/log.ts';
import { createCentralMetrics } from '../../central/metrics.ts';
import { createStore, type EventStore } from '../../central/store/index.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { iso, makeEvent } from '../central/store/fixtures.ts';
import { IN_CI, skipUnmet } from '../support/env.ts';
import { createTempDatabase } from '../support/postgres.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.now();
const GW = 'skew-gw';

const EVENTS: Event[] = [
  // Honest: the device's time is the arrival time.
  makeEvent(GW, 1, iso(NOW - 10 * MIN)),
  makeEvent(GW, 2, iso(NOW - 9 * MIN)),
  // A device clock a minute slow: under the default 300 s, not flagged.
  makeEvent(GW, 3, iso(NOW - 9 * MIN), { received: iso(NOW - 8 * MIN) }),
  // A gateway clock an hour fast: received is its raw clock, ts already corrected by the link.
  makeEvent(GW, 4, iso(NOW - 7 * MIN), {
    received: iso(NOW - 7 * MIN + 60 * MIN),
    clock_offset_ms: 60 * MIN,
    time_source: 'gateway',
  }),
  // Backdated by the sender: says three days ago, arrived five minutes ago.
  makeEvent(GW, 5, iso(NOW - 3 * DAY), { received: iso(NOW - 5 * MIN), message: 'backdated login' }),
];

function suite(name: string, open: () => Promise<EventStore | undefined>) {
  describe(`backdated events (${name})`, () => {
    let store: EventStore | undefined;
    const token = newToken();
    let get: (path: string) => Promise<Response>;
    const json = async <T>(path: string): Promise<T> => {
      const res = await get(path);
      const text = await res.text();
      assert.equal(res.status, 200, `${path}: ${text}`);
      return JSON.parse(text) as T;
    };
    before(async () => {
      store = await open();
      if (!store) return;
      await store.init(new Date(NOW));
      assert.deepEqual(await store.insertEvents(EVENTS), { inserted: EVENTS.length, duplicates: 0 });
      // Re-sent: flagged the same way, so still exactly once in storage.
      assert.deepEqual(await store.insertEvents(EVENTS), { inserted: 0, duplicates: EVENTS.length });
      const { app } = await buildCentral(centralConfigSchema.parse({ storage: { type: 'pglite' } }), store, {
        metrics: createCentralMetrics({ processMetrics: false }),
        logger: createLogger('silent'),
        apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
      });
      get = async (path) => app.request(path, { headers: { authorization: `Bearer ${token}` } });
    });
    after(() => store?.close());

    const lastHour = `from=${NOW - 60 * MIN}&to=${NOW + MIN}&gateway=${GW}`;

    it('by ts the backdated event is out of range; by received it is found, flagged', async (t) => {
      if (!store) return skipUnmet(t);
      const byTs = await json<{ events: Event[] }>(`/api/events?${lastHour}`);
      assert.deepEqual(
        byTs.events.map((e) => e.seq),
        [4, 3, 2, 1],
      );
      const byReceived = await json<{ events: Event[] }>(`/api/events?${lastHour}&time_field=received`);
      // Still newest first by ts, so the backdated one comes last. Seq 4 arrived (gateway clock)
      // an hour ahead, outside this range by its raw `received`.
      assert.deepEqual(
        byReceived.events.map((e) => e.seq),
        [3, 2, 1, 5],
      );
      const backdated = byReceived.events.at(-1)!;
      assert.ok(backdated.tags.includes('clock_skew'), JSON.stringify(backdated));
      assert.equal(backdated.fields.clock_skew_ms, -(3 * DAY - 5 * MIN));
      for (const e of byReceived.events.slice(0, -1)) {
        assert.ok(!e.tags.includes('clock_skew'), `seq ${e.seq} flagged`);
        assert.equal(e.fields.clock_skew_ms, undefined);
      }
    });

    it('tag=clock_skew finds exactly the flagged event, whatever its ts', async (t) => {
      if (!store) return skipUnmet(t);
      const flagged = await json<{ events: Event[] }>(`/api/events?gateway=${GW}&tag=clock_skew`);
      assert.deepEqual(
        flagged.events.map((e) => e.seq),
        [5],
      );
      const inRange = await json<{ events: Event[] }>(`/api/events?${lastHour}&tag=clock_skew`);
      assert.deepEqual(inRange.events, [], 'by ts, the last hour holds no flagged event');
    });

    it('histogram, top values and export take time_field too', async (t) => {
      if (!store) return skipUnmet(t);
      type Histogram = { total: number; buckets: Array<{ start: string; count: number }> };
      const byTs = await json<Histogram>(`/api/events/histogram?gateway=${GW}&interval=1h`);
      assert.equal(byTs.total, 4, 'the default search (last 24 h by ts) misses the backdated event');
      const byReceived = await json<Histogram>(
        `/api/events/histogram?gateway=${GW}&interval=1h&time_field=received`,
      );
      // Bucketed by received: seq 4's raw received is an hour ahead of now, past `to`.
      assert.equal(byReceived.total, 4);
      const bucketOf = (ms: number) => iso(Math.floor(ms / 3_600_000) * 3_600_000);
      const expected = new Map<string, number>();
      for (const e of EVENTS.filter((e) => e.seq !== 4)) {
        const b = bucketOf(Date.parse(e.received));
        expected.set(b, (expected.get(b) ?? 0) + 1);
      }
      for (const [start, count] of expected) {
        assert.equal(byReceived.buckets.find((b) => b.start === start)?.count, count, start);
      }

      const top = await json<{ values: Array<{ value: string; count: number }> }>(
        `/api/events/top?gateway=${GW}&field=gateway&time_field=received&tag=clock_skew`,
      );
      assert.deepEqual(top.values, [{ value: GW, count: 1 }]);

      const res = await get(`/api/events/export?${lastHour}&time_field=received&format=ndjson`);
      assert.equal(res.status, 200);
      const lines = (await res.text()).trim().split('\n');
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as Event).seq),
        [3, 2, 1, 5],
      );
    });

    it('refuses an unknown time field with a 400 naming it', async (t) => {
      if (!store) return skipUnmet(t);
      const res = await get(`/api/events?time_field=stored_at`);
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, /time_field/);
    });

    it('has an index on received (a B-tree from migration 011, a BRIN since 012)', async (t) => {
      if (!store) return skipUnmet(t);
      const { rows } = await store.sql.query<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE tablename = 'events' AND indexdef ~ '\\(received\\)'`,
      );
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.match(rows[0]!.indexdef, /USING brin \(received\)/);
    });
  });
}

suite('pglite', () => createStore({ type: 'pglite' }));
const db = await createTempDatabase();
if ('error' in db && IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
suite('postgres', async () => {
  if ('error' in db) return undefined;
  return createStore({ type: 'postgres', url: db.url, pool_max: 4 });
});
after(async () => {
  if (!('error' in db)) await db.drop();
});
