/**
 * Conformance: the filters of `queryEvents`. Each filter alone against events built to sit on
 * both sides of it (range bounds, case, LIKE wildcards taken literally), then hostile input
 * that must stay data and never become SQL.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { EventQuery } from '../../../central/store/index.ts';
import { buildEventQuery, buildNarrowProbe, estimatedRows } from '../../../central/store/event-query.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import type { SuiteContext } from './conformance.ts';
import { iso, makeEvent, timeSlice, uniqueGateway } from './fixtures.ts';

export function queryCases(ctx: SuiteContext): void {
  const seqs = async (query: Omit<EventQuery, 'limit'>): Promise<number[]> =>
    (await ctx.store.queryEvents({ limit: 1000, ...query })).events.map((e) => e.seq).sort((a, b) => a - b);

  it('time range: from is inclusive, to is exclusive', async () => {
    const gateway = uniqueGateway('range');
    const t = timeSlice();
    const u = t + 60_000;
    const at = [t - 1, t, t + 1, u - 1, u, u + 1];
    await ctx.store.insertEvents(at.map((ms, i) => makeEvent(gateway, i + 1, iso(ms))));
    assert.deepEqual(await seqs({ gateway, from: new Date(t), to: new Date(u) }), [2, 3, 4]);
    assert.deepEqual(await seqs({ gateway, from: new Date(u) }), [5, 6]);
    assert.deepEqual(await seqs({ gateway, to: new Date(t) }), [1]);
    assert.deepEqual(await seqs({ gateway, from: new Date(u), to: new Date(u) }), []);
  });

  it('time range bounds at µs: an event 1 µs before `from` is out, one at `from` is in', async () => {
    const gateway = uniqueGateway('range-us');
    const t = timeSlice();
    const base = iso(t).slice(0, -1);
    const before = makeEvent(gateway, 1, iso(t - 1).replace('Z', '999Z'));
    const at = makeEvent(gateway, 2, `${base}000Z`);
    const after = makeEvent(gateway, 3, `${base}001Z`);
    await ctx.store.insertEvents([before, at, after]);
    assert.deepEqual(await seqs({ gateway, from: new Date(t) }), [2, 3]);
    assert.deepEqual(await seqs({ gateway, to: new Date(t) }), [1]);
  });

  it('source filter', async () => {
    const gateway = uniqueGateway('source');
    const t = timeSlice();
    const sources = ['syslog', 'mqtt', 'coap', 'modbus', 'gateway', 'mqtt'] as const;
    await ctx.store.insertEvents(
      sources.map((source, i) => makeEvent(gateway, i + 1, iso(t + i), { source })),
    );
    assert.deepEqual(await seqs({ gateway, source: 'mqtt' }), [2, 6]);
    assert.deepEqual(await seqs({ gateway, source: 'modbus' }), [4]);
  });

  it('host filter: whole name, case-insensitive', async () => {
    const gateway = uniqueGateway('host');
    const t = timeSlice();
    const hosts = ['PLC-7', 'plc-7', 'plc-70', 'xplc-7', undefined, 'Plc-7 '];
    await ctx.store.insertEvents(
      hosts.map((host, i) => makeEvent(gateway, i + 1, iso(t + i), host === undefined ? {} : { host })),
    );
    assert.deepEqual(await seqs({ gateway, host: 'plc-7' }), [1, 2]);
    assert.deepEqual(await seqs({ gateway, host: 'pLC-7' }), [1, 2]);
    assert.deepEqual(await seqs({ gateway, host: 'PLC' }), []);
  });

  it('severityMax: severity <= n (0 is the most severe)', async () => {
    const gateway = uniqueGateway('severity');
    const t = timeSlice();
    await ctx.store.insertEvents(
      [0, 1, 2, 3, 4, 5, 6, 7].map((severity) =>
        makeEvent(gateway, severity + 1, iso(t + severity), { severity }),
      ),
    );
    assert.deepEqual(await seqs({ gateway, severityMax: 3 }), [1, 2, 3, 4]);
    assert.deepEqual(await seqs({ gateway, severityMax: 0 }), [1]);
    assert.deepEqual(await seqs({ gateway, severityMax: 7 }), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(await seqs({ gateway, severityMax: -1 }), []);
    assert.deepEqual(await seqs({ gateway, severityMax: 1e9 }), [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('text filter: case-insensitive, whole words, with % _ and \\ taken literally', async () => {
    const gateway = uniqueGateway('text');
    const t = timeSlice();
    const messages = [
      '100% done',
      '100 percent done',
      'a_b',
      'axb',
      'back\\slash',
      'backslash',
      'Disk ERROR on sda',
      "it's",
    ];
    await ctx.store.insertEvents(
      messages.map((message, i) => makeEvent(gateway, i + 1, iso(t + i), { message })),
    );
    // Text without words is a plain substring.
    assert.deepEqual(await seqs({ gateway, text: '%' }), [1]);
    assert.deepEqual(await seqs({ gateway, text: '\\' }), [5]);
    assert.deepEqual(await seqs({ gateway, text: "'" }), [8]);
    // Words are whole words: `0` is not a word of "100% done", `_` not one of "a_b".
    assert.deepEqual(await seqs({ gateway, text: '0% d' }), []);
    assert.deepEqual(await seqs({ gateway, text: '100% done' }), [1]);
    assert.deepEqual(await seqs({ gateway, text: '% done' }), [1]);
    assert.deepEqual(await seqs({ gateway, text: '_' }), []);
    assert.deepEqual(await seqs({ gateway, text: 'A_B' }), [3]);
    assert.deepEqual(await seqs({ gateway, text: 'back\\slash' }), [5]);
    assert.deepEqual(await seqs({ gateway, text: 'error' }), [7]);
    assert.deepEqual(await seqs({ gateway, text: 'done' }), [1, 2]);
    assert.deepEqual(await seqs({ gateway, text: 'don' }), []);
    // The store runs a narrow text search without the word index: both forms find the same rows.
    for (const text of ['%', '0% d', '_', 'A_B', '\\', 'error', "'", 'done', 'zzz', '100% done']) {
      const rows = async (textIndex: boolean) => {
        const built = buildEventQuery({ gateway, text, limit: 1000 }, { textIndex });
        return (await ctx.store.sql.query<{ seq: string }>(built.text, built.params)).rows.map((r) =>
          Number(r.seq),
        );
      };
      assert.deepEqual(await rows(false), await rows(true), `text ${JSON.stringify(text)}`);
    }
    const probe = buildNarrowProbe({ gateway, text: 'done', limit: 10 });
    assert.equal(
      (await ctx.store.sql.query<{ n: number }>(probe!.text, probe!.params)).rows[0]?.n,
      messages.length,
    );
    // The planner's estimate of the same rows, which decides without counting when far from the
    // bound: both adapters hand EXPLAIN's JSON back in a shape it reads (else every search counts).
    const plan = (
      await ctx.store.sql.query<Record<string, unknown>>(probe!.estimate.text, probe!.estimate.params)
    ).rows[0];
    const estimate = estimatedRows(plan);
    assert.ok(estimate !== undefined && estimate >= 1, `an estimate from ${JSON.stringify(plan)}`);
    assert.equal(estimatedRows({ 'QUERY PLAN': JSON.stringify([{ Plan: { 'Plan Rows': 7 } }]) }), 7);
    assert.equal(estimatedRows({ 'QUERY PLAN': '[{"Plan":' }), undefined, 'bad JSON: no estimate');
    assert.equal(estimatedRows(undefined), undefined);
    assert.equal(buildNarrowProbe({ gateway, limit: 10 }), undefined, 'no text, no probe');
  });

  it('gateway filter', async () => {
    const t = timeSlice();
    const a = uniqueGateway('gw-a');
    const b = uniqueGateway('gw-b');
    await ctx.store.insertEvents([
      makeEvent(a, 1, iso(t)),
      makeEvent(b, 1, iso(t)),
      makeEvent(a, 2, iso(t + 1)),
    ]);
    const page = await ctx.store.queryEvents({ gateway: a, limit: 10 });
    assert.deepEqual(
      page.events.map((e) => e.id),
      [`${a}:2`, `${a}:1`],
    );
    const slice = await ctx.store.queryEvents({ from: new Date(t), to: new Date(t + 2), limit: 10 });
    assert.deepEqual(slice.events.map((e) => e.gateway).sort(), [a, a, b].sort());
  });

  it('filters combine with AND', async () => {
    const gateway = uniqueGateway('combined');
    const t = timeSlice();
    const events: Event[] = [
      makeEvent(gateway, 1, iso(t), { source: 'modbus', host: 'PLC-1', severity: 2, message: 'write coil' }),
      makeEvent(gateway, 2, iso(t + 1), {
        source: 'modbus',
        host: 'PLC-1',
        severity: 5,
        message: 'write coil',
      }),
      makeEvent(gateway, 3, iso(t + 2), {
        source: 'mqtt',
        host: 'PLC-1',
        severity: 2,
        message: 'write coil',
      }),
      makeEvent(gateway, 4, iso(t + 3), {
        source: 'modbus',
        host: 'PLC-2',
        severity: 2,
        message: 'write coil',
      }),
      makeEvent(gateway, 5, iso(t + 4), {
        source: 'modbus',
        host: 'PLC-1',
        severity: 2,
        message: 'read coil',
      }),
    ];
    await ctx.store.insertEvents(events);
    const query = { gateway, source: 'modbus', host: 'plc-1', severityMax: 3, text: 'WRITE' } as const;
    assert.deepEqual(await seqs(query), [1]);
    assert.deepEqual(await seqs({ ...query, from: new Date(t + 1) }), []);
  });

  it('treats SQL in every filter as plain data', async () => {
    const gateway = uniqueGateway('inject');
    const t = timeSlice();
    await ctx.store.insertEvents([makeEvent(gateway, 1, iso(t), { host: 'h', message: 'm' })]);
    const attacks = [
      "'; DROP TABLE events; --",
      "x' OR '1'='1",
      "') OR 1=1 --",
      '%',
      '\\',
      '"; SELECT pg_sleep(10); --',
      "$1' UNION SELECT * FROM schema_migrations --",
    ];
    for (const attack of attacks) {
      assert.deepEqual(await seqs({ gateway: attack }), [], `gateway ${attack}`);
      assert.deepEqual(await seqs({ gateway, host: attack }), [], `host ${attack}`);
      assert.deepEqual(await seqs({ gateway, text: attack }), [], `text ${attack}`);
      assert.deepEqual(await seqs({ gateway, source: attack as Event['source'] }), [], `source ${attack}`);
    }
    assert.deepEqual(await seqs({ gateway }), [1], 'the table and its row are still there');
    assert.equal((await ctx.store.health()).ok, true);
  });
}
