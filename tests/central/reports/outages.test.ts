/**
 * Link outages in reports (central/reports/link-health.ts, docs/reports.md "Outages are measured,
 * not guessed"), on PGlite and PostgreSQL. Events late for reasons other than an outage are not
 * one: a file backlog of old lines (old `ts`, fresh `received`) that delays the gateway's current
 * events behind it while central keeps storing, a gateway whose clock is ten minutes slow and
 * whose events carry no offset yet (its last measured offset is known), and a batch sent again.
 * The real outage (nothing stored for fifteen minutes while the gateway received events, then its
 * buffer drained) is the only one reported, with its start, link back, drain and delay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectGateways } from '../../../central/reports/link-health.ts';
import type { Period } from '../../../central/reports/period.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import { IN_CI } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { makeEvent } from '../store/fixtures.ts';

const DAY = '2026-03-01';
const at = (hhmmss: string, plusSecs = 0) =>
  new Date(Date.parse(`${DAY}T${hhmmss}.000Z`) + plusSecs * 1000).toISOString();
const PERIOD = {
  start: new Date(`${DAY}T00:00:00.000Z`),
  end: new Date('2026-03-02T00:00:00.000Z'),
} as Period;

/** The events and when central stored each. */
function history(): Array<{ event: Event; stored: string }> {
  const out: Array<{ event: Event; stored: string }> = [];
  const add = (event: Event, stored: string) => out.push({ event, stored });
  // gw-backlog: 400 old lines of a file (a day old) read at 09:00, draining at one a second until
  // 09:06:40; the five current events received at 09:00:10 wait behind them (stored 6 minutes late).
  for (let i = 0; i < 400; i++)
    add(
      makeEvent('gw-backlog', i + 1, `2026-02-28T09:00:0${i % 10}.000Z`, { received: at('09:00:00') }),
      at('09:00:01', i),
    );
  for (let i = 0; i < 5; i++)
    add(makeEvent('gw-backlog', 500 + i, at('09:00:10'), { received: at('09:00:10') }), at('09:06:41', i));
  // gw-skew: its clock ten minutes slow, no offset stamped yet; one event every 20 minutes, stored at once.
  for (let i = 0; i < 3; i++) {
    const truly = at('10:00:00', i * 1200);
    const slow = new Date(Date.parse(truly) - 600_000).toISOString();
    add(
      makeEvent('gw-skew', i + 1, slow, { received: slow, time_source: 'gateway' }),
      at('10:00:01', i * 1200),
    );
  }
  // gw-real: one event a minute; the link is down from 12:00 to 12:15, the fifteen events received
  // meanwhile (12:00..12:14) are stored at 12:15:00..12:15:14, then it goes on as before. The last
  // two waited less than buffered_after_secs (120 s): thirteen count as buffered.
  for (let m = 0; m < 30; m++) {
    const received = at('11:50:00', m * 60);
    const down = m >= 10 && m < 25;
    add(makeEvent('gw-real', m + 1, received), down ? at('12:15:00', m - 10) : at('11:50:01', m * 60));
  }
  return out;
}

function suite(name: string, open: () => Promise<EventStore | undefined>) {
  describe(`report outages (${name})`, () => {
    let store: EventStore | undefined;
    before(async () => {
      store = await open();
      if (!store) return;
      await store.init(new Date(`${DAY}T00:00:00.000Z`));
      await store.sql.query(
        `INSERT INTO gateways (id, public_key, status, clock_offset_ms) VALUES
           ('gw-backlog', 'k1', 'active', 0), ('gw-skew', 'k2', 'active', -600000), ('gw-real', 'k3', 'active', NULL)`,
      );
      const rows = history();
      await store.insertEvents(rows.map((r) => r.event));
      await store.sql.query(
        `UPDATE events e SET stored_at = v.s
           FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS v(g, q, s)
          WHERE e.gateway = v.g AND e.seq = v.q`,
        [rows.map((r) => r.event.gateway), rows.map((r) => r.event.seq), rows.map((r) => r.stored)],
      );
      // gw-real sends its drained batch again (an ack lost): a duplicate, stored nothing.
      const again = await store.insertEvents(
        rows.filter((r) => r.event.gateway === 'gw-real').map((r) => r.event),
      );
      assert.equal(again.inserted, 0);
    });
    after(async () => store?.close());

    it('reports the real outage only', async (t) => {
      if (!store) return t.skip('PostgreSQL is not available');
      const { outages, gateways } = await collectGateways({
        sql: store.sql,
        period: PERIOD,
        scope: { gateways: null },
        bufferedAfterSecs: 120,
        centralId: 'central',
      });
      assert.deepEqual(outages, [
        {
          gateway: 'gw-real',
          start: at('12:00:00'),
          restored: at('12:15:00'),
          drained: at('12:15:12'),
          buffered_events: 13,
          max_delay_secs: 900,
        },
      ]);
      assert.deepEqual(
        gateways.map((g) => [g.id, g.outages, g.outage_secs, g.buffered_events]),
        [
          ['gw-backlog', 0, 0, 0],
          ['gw-real', 1, 900, 13],
          ['gw-skew', 0, 0, 0],
        ],
      );
    });
  });
}

suite('PGlite', () => createPgliteStore());
const db = await createTempDatabase();
if ('error' in db && IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
suite('PostgreSQL', async () =>
  'error' in db ? undefined : createPostgresStore({ connectionString: db.url, poolMax: 4 }),
);
after(async () => {
  if (!('error' in db)) await db.drop();
});
