/**
 * Conformance: daily partitions. The window around today exists after `init`, absurd timestamps
 * land in events_default and stay queryable, and creating a day's partition (window moving, or a
 * batch touching a missing day) moves that day's rows out of events_default. Far-away dates
 * (years 2500, 2600) simulate the window moving without touching other tests' days.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_PARTITION_POLICY } from '../../../central/store/index.ts';
import type { SuiteContext } from './conformance.ts';
import { iso, makeEvent, startOfUtcDay, uniqueGateway } from './fixtures.ts';

const DAY_MS = 86_400_000;

function dayName(ms: number): string {
  return `events_p${iso(ms).slice(0, 10).replaceAll('-', '')}`;
}

export function partitionCases(ctx: SuiteContext): void {
  it('has a partition for every day from today - pastDays to today + aheadDays, plus DEFAULT', async () => {
    const partitions = await ctx.store.listPartitions();
    const byName = new Map(partitions.map((p) => [p.name, p]));
    const today = startOfUtcDay(new Date());
    const { pastDays, aheadDays } = DEFAULT_PARTITION_POLICY;
    for (let d = -pastDays; d <= aheadDays; d++) {
      const from = today + d * DAY_MS;
      assert.deepEqual(byName.get(dayName(from)), {
        name: dayName(from),
        from: new Date(from),
        to: new Date(from + DAY_MS),
      });
    }
    assert.deepEqual(byName.get('events_default'), { name: 'events_default', from: null, to: null });
    assert.equal(partitions.at(-1)?.name, 'events_default', 'DEFAULT listed last');
    const daily = partitions.filter((p) => p.from !== null).map((p) => p.from!.getTime());
    assert.deepEqual(
      daily,
      [...daily].sort((a, b) => a - b),
      'daily partitions oldest first',
    );
  });

  it('creates nothing when the window is already there', async () => {
    assert.deepEqual(await ctx.store.ensurePartitions(new Date()), []);
  });

  it('keeps events dated 1970 and 2999 in the DEFAULT partition, still queryable', async () => {
    const gateway = uniqueGateway('absurd');
    const before = await ctx.store.countDefaultPartition();
    const old = makeEvent(gateway, 1, '1970-01-01T00:00:00.000Z');
    const future = makeEvent(gateway, 2, '2999-12-31T23:59:59.999Z');
    assert.deepEqual(await ctx.store.insertEvents([old, future]), { inserted: 2, duplicates: 0 });
    assert.equal(await ctx.store.countDefaultPartition(), before + 2);
    assert.deepEqual((await ctx.store.queryEvents({ gateway, limit: 10 })).events, [future, old]);
    const range = await ctx.store.queryEvents({ gateway, from: new Date(0), to: new Date(1), limit: 10 });
    assert.deepEqual(range.events, [old]);
    const names = (await ctx.store.listPartitions()).map((p) => p.name);
    assert.ok(!names.includes('events_p19700101') && !names.includes('events_p29991231'));
  });

  it('moves rows out of DEFAULT when the window reaches their day', async () => {
    const gateway = uniqueGateway('move');
    const day = Date.parse('2500-06-15T00:00:00.000Z');
    const inside = [1, 2, 3].map((n) => makeEvent(gateway, n, iso(day + n * 3_600_000)));
    const outside = makeEvent(gateway, 4, iso(day + 20 * DAY_MS));
    const before = await ctx.store.countDefaultPartition();
    await ctx.store.insertEvents([...inside, outside]);
    assert.equal(await ctx.store.countDefaultPartition(), before + 4);

    const created = await ctx.store.ensurePartitions(new Date(day - DAY_MS / 2));
    const { pastDays, aheadDays } = DEFAULT_PARTITION_POLICY;
    assert.equal(created.length, pastDays + aheadDays + 1);
    assert.deepEqual(
      created.find((p) => p.name === 'events_p25000615'),
      { name: 'events_p25000615', from: new Date(day), to: new Date(day + DAY_MS) },
    );
    assert.equal(
      await ctx.store.countDefaultPartition(),
      before + 1,
      'only the day outside the window stays',
    );
    assert.ok((await ctx.store.listPartitions()).some((p) => p.name === 'events_p25000615'));
    assert.deepEqual((await ctx.store.queryEvents({ gateway, limit: 10 })).events, [
      outside,
      ...inside.reverse(),
    ]);
    // The moved rows keep their identity: re-sending them stores nothing.
    assert.deepEqual(await ctx.store.insertEvents(inside), { inserted: 0, duplicates: 3 });
  });

  it('creates a missing partition of the window before inserting a batch that needs it', async () => {
    const gateway = uniqueGateway('batchday');
    const today = Date.parse('2600-03-10T00:00:00.000Z');
    ctx.setClock(new Date(today + 12 * 3_600_000));
    try {
      const ahead = makeEvent(gateway, 1, iso(today + 2 * DAY_MS + 5));
      const behind = makeEvent(gateway, 2, iso(today - 5 * DAY_MS + 5));
      const beyond = makeEvent(gateway, 3, iso(today + 15 * DAY_MS));
      const before = await ctx.store.countDefaultPartition();
      assert.deepEqual(await ctx.store.insertEvents([ahead, behind, beyond]), { inserted: 3, duplicates: 0 });
      const names = new Set((await ctx.store.listPartitions()).map((p) => p.name));
      assert.ok(names.has(dayName(today + 2 * DAY_MS)), 'day ahead created');
      assert.ok(names.has(dayName(today - 5 * DAY_MS)), 'day behind created');
      assert.ok(!names.has(dayName(today + 15 * DAY_MS)), 'day beyond the window not created');
      assert.ok(!names.has(dayName(today)), 'only the days the batch touched');
      assert.equal(await ctx.store.countDefaultPartition(), before + 1);
      assert.equal((await ctx.store.queryEvents({ gateway, limit: 10 })).events.length, 3);
    } finally {
      ctx.setClock(null);
    }
  });
}
