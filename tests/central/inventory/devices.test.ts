/**
 * The device inventory writes only the rows a batch changes (central/inventory/devices.ts), on
 * both stores: a batch of known devices with nothing new issues no statement and leaves each row's
 * xmin (the transaction that last wrote it) as it was; a new device, an earlier first event, a new
 * gateway, protocol, name or role, or a last event a step later writes that device's row, and only
 * that one. Every statement the recorder sends is counted on the way to the real database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeviceRecorder, LAST_SEEN_STEP_MS } from '../../../central/inventory/devices.ts';
import type { SqlExecutor } from '../../../central/store/sql-client.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import type { EventInput } from '../../../protocols/event/schema.ts';
import { IN_CI } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { makeEvent, uniqueGateway } from '../store/fixtures.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function suite(name: string, open: () => Promise<{ store: EventStore; close: () => Promise<void> }>) {
  describe(`device inventory writes (${name})`, () => {
    let store: EventStore;
    let close: () => Promise<void>;
    let statements = 0;
    /** The store's own client, counting what the recorder sends through it. */
    let counted: SqlExecutor;
    before(async () => {
      ({ store, close } = await open());
      await store.init(new Date(T0));
      counted = {
        query: (text, params) => {
          statements += 1;
          return store.sql.query(text, params);
        },
        exec: (script) => store.sql.exec(script),
      };
    });
    after(() => close?.());

    /** The rows of `ids`: xmin and what the API lists. */
    async function rows(ids: string[]) {
      const { rows } = await store.sql.query<Record<string, unknown>>(
        `SELECT device_id, xmin::text AS xmin, (extract(epoch FROM first_seen) * 1000)::float8 AS first_ms,
                (extract(epoch FROM last_seen) * 1000)::float8 AS last_ms, gateways, protocols, name, role
           FROM devices WHERE device_id = ANY($1::text[]) ORDER BY device_id`,
        [ids],
      );
      return new Map(rows.map((r) => [String(r.device_id), r]));
    }

    it('writes nothing for a batch of known, unchanged devices; a changed one writes its row only', async () => {
      const gw = uniqueGateway('inv');
      const plc = `modbus:${gw}/1`;
      const hmi = `modbus:${gw}/2`;
      let seq = 0;
      const event = (device: string, ms: number, over: Partial<EventInput> = {}) =>
        makeEvent(gw, ++seq, at(ms), { source: 'modbus', device: { id: device }, ...over });
      const recorder = createDeviceRecorder(counted);
      const record = async (events: ReturnType<typeof event>[]) => {
        const before = statements;
        const written = await recorder.record(events);
        return { written, statements: statements - before };
      };

      // New devices: one statement for both.
      assert.deepEqual(await record([event(plc, 0), event(hmi, 1000), event(plc, 2000)]), {
        written: 2,
        statements: 1,
      });
      const first = await rows([plc, hmi]);
      assert.equal(first.get(plc)!.last_ms, T0 + 2000);

      // The same devices again, nothing new (later events within the step, a re-sent batch):
      // no statement, the rows untouched.
      assert.deepEqual(await record([event(plc, 1500), event(hmi, 30_000), event(plc, 2000)]), {
        written: 0,
        statements: 0,
      });
      assert.deepEqual(await rows([plc, hmi]), first);

      // The PLC's last event a step later, the HMI unchanged: only the PLC's row is written.
      assert.deepEqual(await record([event(plc, 2000 + LAST_SEEN_STEP_MS), event(hmi, 5000)]), {
        written: 1,
        statements: 1,
      });
      const moved = await rows([plc, hmi]);
      assert.equal(moved.get(plc)!.last_ms, T0 + 2000 + LAST_SEEN_STEP_MS);
      assert.notEqual(moved.get(plc)!.xmin, first.get(plc)!.xmin);
      assert.deepEqual(moved.get(hmi), first.get(hmi), 'the unchanged HMI was not written');

      // Each kind of change writes the row, and the next same batch does not.
      const changes: Array<[string, ReturnType<typeof event>, (r: Record<string, unknown>) => void]> = [
        ['an earlier first event', event(hmi, -60_000), (r) => assert.equal(r.first_ms, T0 - 60_000)],
        [
          'a new gateway',
          makeEvent(`${gw}-b`, 1, at(3000), { source: 'modbus', device: { id: hmi } }),
          (r) => assert.deepEqual(r.gateways, [gw, `${gw}-b`]),
        ],
        [
          'a new protocol',
          event(hmi, 3000, { source: 'syslog' }),
          (r) => assert.deepEqual(r.protocols, ['modbus', 'syslog']),
        ],
        [
          'a name',
          event(hmi, 3000, { device: { id: hmi, name: 'Line 2 HMI' } }),
          (r) => assert.equal(r.name, 'Line 2 HMI'),
        ],
        [
          'a role',
          event(hmi, 3000, {
            source: 'enip',
            fields: { identity: { device_type_name: 'Human-Machine Interface' } },
          }),
          (r) => assert.equal(r.role, 'Human-Machine Interface'),
        ],
      ];
      for (const [what, changed, check] of changes) {
        const before = (await rows([hmi])).get(hmi)!;
        assert.deepEqual(await record([changed, event(plc, 2000)]), { written: 1, statements: 1 }, what);
        const after = (await rows([hmi])).get(hmi)!;
        assert.notEqual(after.xmin, before.xmin, what);
        check(after);
        assert.deepEqual(
          await record([changed, event(plc, 2000)]),
          { written: 0, statements: 0 },
          `${what} again`,
        );
        assert.deepEqual((await rows([hmi])).get(hmi), after, what);
      }
    });

    it('forgets the least recently seen devices beyond its bound, and writes them again when seen', async () => {
      const gw = uniqueGateway('inv-bound');
      let seq = 0;
      const event = (n: number) =>
        makeEvent(gw, ++seq, at(0), { source: 'modbus', device: { id: `d:${gw}/${n}` } });
      const recorder = createDeviceRecorder(counted, { maxRemembered: 2 });
      assert.equal(await recorder.record([event(1), event(2)]), 2);
      assert.equal(await recorder.record([event(1)]), 0);
      assert.equal(await recorder.record([event(3)]), 1);
      assert.equal(recorder.size(), 2);
      // 2 was seen least recently (1 was seen again before 3 came): it is written again, 1 not.
      assert.equal(await recorder.record([event(1)]), 0);
      assert.equal(await recorder.record([event(2)]), 1);
    });
  });
}

suite('PGlite', async () => {
  const store = await createPgliteStore();
  return { store, close: () => store.close() };
});

const db = await createTempDatabase();
if ('error' in db && !IN_CI) {
  describe('device inventory writes (PostgreSQL)', { skip: db.error }, () => {
    it('needs PostgreSQL', () => {});
  });
} else {
  suite('PostgreSQL', async () => {
    if ('error' in db) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
    const store = await createPostgresStore({ connectionString: db.url, poolMax: 2 });
    return {
      store,
      close: async () => {
        await store.close();
        await db.drop();
      },
    };
  });
}
