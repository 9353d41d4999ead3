/**
 * The search API on both stores, in process: histogram buckets, top values and the NDJSON/CSV
 * export equal a reference computed here from the events the test wrote; the export arrives in
 * several chunks (streamed page by page, not buffered whole); ranges, limits and field names
 * are bounded, a bad one a 400 naming it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCentral } from '../../../central/index.ts';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { CSV_COLUMNS } from '../../../central/api/search.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { parseCsv } from '../../../central/store/archive-csv.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import { IN_CI, skipUnmet } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { iso, makeEvent, newestFirst, startOfUtcDay } from '../store/fixtures.ts';

const HOUR = 3_600_000;
const T0 = startOfUtcDay(new Date()) - 3 * 86_400_000 + 7 * 60_000; // not bucket-aligned on purpose
const HOSTS = ['plc-1', 'PLC-2', 'hmi', 'switch-a', 'rtu-9'];
const ACTIONS = ['syslog.message', 'modbus.write_single_register', 'mqtt.auth_failure'];
const SOURCES = ['syslog', 'modbus', 'mqtt'] as const;

function dataset(): Event[] {
  const events: Event[] = [];
  for (let i = 0; i < 2500; i++) {
    const gateway = `search-gw-${i % 3}`;
    events.push(
      makeEvent(gateway, i + 1, iso(T0 + ((i * 7919) % (6 * HOUR))), {
        source: SOURCES[i % 3],
        action: ACTIONS[(i >> 1) % 3],
        severity: i % 8,
        ...(i % 11 !== 0 && { host: HOSTS[(i * 3) % 5] }),
        ...(i % 4 !== 0 && { device: { id: `dev-${i % 13}` } }),
        src: { ip: `10.0.${i % 2}.${i % 17}` },
        message: i % 5 === 0 ? `Login FAILED for "op,${i}"\nline2` : `poll ${i} ok`,
        tags: i % 9 === 0 ? ['x'] : [],
      }),
    );
  }
  return events;
}

const EVENTS = dataset();
const FROM = T0 - 7 * 60_000;
const TO = T0 + 6 * HOUR;

type Filter = { severityMax?: number; q?: string; gateway?: string };
function matches(e: Event, f: Filter): boolean {
  const t = Date.parse(e.ts);
  if (t < FROM || t >= TO) return false;
  if (f.severityMax !== undefined && e.severity > f.severityMax) return false;
  if (f.q !== undefined && !e.message.toLowerCase().includes(f.q.toLowerCase())) return false;
  if (f.gateway !== undefined && e.gateway !== f.gateway) return false;
  return true;
}
function fieldOf(e: Event, field: string): string | undefined {
  if (field === 'device_id') return e.device?.id;
  if (field === 'src_ip') return e.src?.ip;
  return (e as unknown as Record<string, string | undefined>)[field];
}

function suite(name: string, open: () => Promise<EventStore | undefined>) {
  describe(`search API (${name})`, () => {
    let store: EventStore | undefined;
    const token = newToken();
    let request: (path: string) => Promise<Response>;
    before(async () => {
      store = await open();
      if (!store) return;
      await store.init(new Date());
      await store.insertEvents(EVENTS);
      const { app } = await buildCentral(centralConfigSchema.parse({ storage: { type: 'pglite' } }), store, {
        metrics: createCentralMetrics({ processMetrics: false }),
        logger: createLogger((process.env.SIEM_TEST_LOG ?? 'silent') as 'silent'),
        apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
      });
      request = (path) =>
        Promise.resolve(app.request(path, { headers: { authorization: `Bearer ${token}` } }));
    });
    after(() => store?.close());
    const range = `from=${FROM}&to=${TO}`;

    it('histogram: every 15-minute bucket of the range with the reference count', async (t) => {
      if (!store) return skipUnmet(t);
      const filter = { severityMax: 4, q: 'failed' };
      const res = await request(`/api/events/histogram?${range}&interval=15m&severity_max=4&q=failed`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { buckets: Array<{ start: string; count: number }>; total: number };
      const width = 15 * 60_000;
      const expected = new Map<number, number>();
      for (let b = Math.floor(FROM / width) * width; b < TO; b += width) expected.set(b, 0);
      for (const e of EVENTS.filter((e) => matches(e, filter))) {
        const b = Math.floor(Date.parse(e.ts) / width) * width;
        expected.set(b, expected.get(b)! + 1);
      }
      assert.deepEqual(
        body.buckets,
        [...expected].map(([b, count]) => ({ start: iso(b), count })),
      );
      assert.ok(body.total > 50);
    });

    for (const field of ['host', 'action', 'source', 'gateway', 'device_id', 'src_ip']) {
      it(`top ${field}: counts descending, ties by value, equal to the reference`, async (t) => {
        if (!store) return skipUnmet(t);
        const res = await request(`/api/events/top?${range}&field=${field}&limit=5&severity_max=5`);
        assert.equal(res.status, 200);
        const counts = new Map<string, number>();
        for (const e of EVENTS.filter((e) => matches(e, { severityMax: 5 }))) {
          const v = fieldOf(e, field);
          if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
        }
        const expected = [...counts]
          .map(([value, count]) => ({ value, count }))
          .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
          .slice(0, 5);
        assert.deepEqual(((await res.json()) as { values: unknown }).values, expected);
      });
    }

    it('export NDJSON: every matching event, newest first, streamed in several chunks', async (t) => {
      if (!store) return skipUnmet(t);
      const res = await request(`/api/events/export?${range}&format=ndjson&max_events=1000000`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
      assert.equal(res.headers.get('content-length'), null);
      let chunks = 0;
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) {
        chunks += 1;
        text += decoder.decode(chunk, { stream: true });
      }
      assert.ok(chunks >= 3, `${chunks} chunks for 2500 events in pages of 1000`);
      const got = text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Event);
      assert.deepEqual(got, EVENTS.filter((e) => matches(e, {})).sort(newestFirst));
    });

    it('export CSV: header, then one record per event with hostile text intact; max_events caps it', async (t) => {
      if (!store) return skipUnmet(t);
      const res = await request(`/api/events/export?${range}&format=csv&gateway=search-gw-1&q=failed`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      const records: (string | null)[][] = [];
      for await (const r of parseCsv(
        (async function* () {
          yield await res.text();
        })(),
      ))
        records.push(r);
      assert.deepEqual(records[0], [...CSV_COLUMNS]);
      const expected = EVENTS.filter((e) => matches(e, { gateway: 'search-gw-1', q: 'failed' })).sort(
        newestFirst,
      );
      const col = (name: string) => CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number]);
      assert.deepEqual(
        records
          .slice(1)
          .map((r) => [r[col('id')], r[col('ts')], r[col('message')], r[col('host')], r[col('tags')]]),
        expected.map((e) => [e.id, e.ts, e.message, e.host ?? null, JSON.stringify(e.tags)]),
      );
      const capped = await request(`/api/events/export?${range}&max_events=7`);
      assert.equal((await capped.text()).trimEnd().split('\n').length, 7);
    });

    it('refuses unbounded or malformed queries with a 400 naming the parameter', async (t) => {
      if (!store) return skipUnmet(t);
      const cases: Array<[string, RegExp]> = [
        [`/api/events/top?from=0&to=${40 * 86_400_000}&field=host`, /at most 31 days/],
        [`/api/events/top?${range}&field=message`, /field/],
        [`/api/events/top?${range}&field=host&limit=5000`, /limit/],
        [`/api/events/histogram?from=0&to=${30 * 86_400_000}&interval=1m`, /buckets/],
        [`/api/events/histogram?${range}&interval=7m`, /interval/],
        [`/api/events/export?${range}&format=xml`, /format/],
        [`/api/events/export?${range}&max_events=0`, /max_events/],
        [`/api/events/export?from=${TO}&to=${FROM}`, /before/],
        [`/api/events/histogram?${range}&sql=1`, /sql/],
      ];
      for (const [path, message] of cases) {
        const res = await request(path);
        assert.equal(res.status, 400, path);
        assert.match(((await res.json()) as { error: string }).error, message, path);
      }
    });
  });
}

suite('pglite', () => createPgliteStore());
const db = await createTempDatabase();
if ('error' in db && IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
suite('postgres', async () => {
  if ('error' in db) return undefined;
  return createPostgresStore({ connectionString: db.url, poolMax: 4 });
});
after(async () => {
  if (!('error' in db)) await db.drop();
});
