/**
 * Conformance: listing order and keyset pagination. Newest first with ties broken by gateway
 * then seq, pages that together visit every event exactly once (also across events sharing a
 * millisecond or differing by one µs), page size clamped, and foreign cursors refused.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InvalidCursorError, InvalidQueryError } from '../../../central/store/index.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import type { SuiteContext } from './conformance.ts';
import { drain, iso, makeEvent, newestFirst, timeSlice, uniqueGateway } from './fixtures.ts';

function shuffled<T>(items: readonly T[]): T[] {
  // Deterministic (a fixed LCG), so a failure replays identically.
  let state = 42;
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function pageCases(ctx: SuiteContext): void {
  it('lists newest first; equal timestamps ordered by gateway then seq, descending', async () => {
    const t = timeSlice();
    const gateways = ['B', 'a', 'A', 'b'].map((g) => uniqueGateway(`order-${g}`));
    const events: Event[] = [];
    for (const gateway of gateways) {
      for (let seq = 1; seq <= 3; seq++) {
        events.push(makeEvent(gateway, seq, iso(t + (seq % 2))));
        events.push(makeEvent(gateway, seq + 10, iso(t + 2)));
      }
    }
    await ctx.store.insertEvents(shuffled(events));
    const page = await ctx.store.queryEvents({ from: new Date(t), to: new Date(t + 60_000), limit: 1000 });
    assert.deepEqual(
      page.events.map((e) => e.id),
      [...events].sort(newestFirst).map((e) => e.id),
    );
  });

  it('visits each of 250 events exactly once with limit 100, in listing order', async () => {
    const t = timeSlice();
    const gateways = [uniqueGateway('page-x'), uniqueGateway('page-y'), uniqueGateway('page-z')];
    const events = Array.from({ length: 250 }, (_, i) => {
      const gateway = gateways[i % 3]!;
      // Groups of events share a millisecond; some differ from their neighbours by 1 µs only.
      const ms = iso(t + Math.floor(i / 9));
      const ts = i % 4 === 0 ? ms.replace('Z', '001Z') : ms;
      return makeEvent(gateway, i + 1, ts);
    });
    await ctx.store.insertEvents(shuffled(events));
    const range = { from: new Date(t), to: new Date(t + 60_000) };
    const { events: seen, pages } = await drain((cursor) =>
      ctx.store.queryEvents({ ...range, limit: 100, ...(cursor !== undefined && { cursor }) }),
    );
    assert.deepEqual(pages, [100, 100, 50]);
    assert.deepEqual(
      seen.map((e) => e.id),
      [...events].sort(newestFirst).map((e) => e.id),
    );
    assert.equal(new Set(seen.map((e) => e.id)).size, 250);
  });

  it('ends with a null cursor when the last page is exactly full', async () => {
    const gateway = uniqueGateway('page-exact');
    const t = timeSlice();
    await ctx.store.insertEvents(Array.from({ length: 20 }, (_, i) => makeEvent(gateway, i + 1, iso(t + i))));
    const { pages } = await drain((cursor) =>
      ctx.store.queryEvents({ gateway, limit: 10, ...(cursor !== undefined && { cursor }) }),
    );
    assert.deepEqual(pages, [10, 10]);
  });

  it('keeps filters applied across pages', async () => {
    const gateway = uniqueGateway('page-filter');
    const t = timeSlice();
    await ctx.store.insertEvents(
      Array.from({ length: 30 }, (_, i) =>
        makeEvent(gateway, i + 1, iso(t + i), { severity: i % 2 === 0 ? 1 : 6 }),
      ),
    );
    const { events, pages } = await drain((cursor) =>
      ctx.store.queryEvents({ gateway, severityMax: 3, limit: 4, ...(cursor !== undefined && { cursor }) }),
    );
    assert.deepEqual(pages, [4, 4, 4, 3]);
    assert.ok(events.every((e) => e.severity === 1));
  });

  it('clamps the page size to 1..1000', async () => {
    const gateway = uniqueGateway('clamp');
    const t = timeSlice();
    await ctx.store.insertEvents(Array.from({ length: 3 }, (_, i) => makeEvent(gateway, i + 1, iso(t + i))));
    for (const limit of [0, -5, 0.5]) {
      const page = await ctx.store.queryEvents({ gateway, limit });
      assert.equal(page.events.length, 1, `limit ${limit}`);
      assert.notEqual(page.nextCursor, null);
    }
    assert.equal((await ctx.store.queryEvents({ gateway, limit: 2.9 })).events.length, 2);
  });

  it('rejects a malformed or tampered cursor with InvalidCursorError', async () => {
    const gateway = uniqueGateway('cursor');
    const t = timeSlice();
    await ctx.store.insertEvents(Array.from({ length: 3 }, (_, i) => makeEvent(gateway, i + 1, iso(t + i))));
    const good = (await ctx.store.queryEvents({ gateway, limit: 1 })).nextCursor;
    assert.ok(good);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const [, ts] = JSON.parse(Buffer.from(good, 'base64url').toString()) as [number, string];
    const bad = [
      '',
      'not a cursor',
      '!!!!',
      `${good}=`,
      good.slice(0, -2),
      encode({ ts, gateway, seq: 1 }),
      encode([2, ts, gateway, 1]),
      encode([1, 'yesterday', gateway, 1]),
      encode([1, ts, "x' OR '1'='1", 1]),
      encode([1, ts, gateway, -1]),
      encode([1, ts, gateway, '1']),
      encode([1, ts, gateway, 2 ** 60]),
      Buffer.from('{"unterminated').toString('base64url'),
    ];
    for (const cursor of bad) {
      await assert.rejects(ctx.store.queryEvents({ gateway, limit: 10, cursor }), InvalidCursorError, cursor);
    }
    const next = await ctx.store.queryEvents({ gateway, limit: 10, cursor: good });
    assert.deepEqual(
      next.events.map((e) => e.seq),
      [2, 1],
    );
  });

  it('rejects an invalid date or severity with InvalidQueryError', async () => {
    await assert.rejects(ctx.store.queryEvents({ from: new Date('nope'), limit: 1 }), InvalidQueryError);
    await assert.rejects(ctx.store.queryEvents({ to: new Date(Number.NaN), limit: 1 }), InvalidQueryError);
    await assert.rejects(ctx.store.queryEvents({ severityMax: Number.NaN, limit: 1 }), InvalidQueryError);
  });
}
