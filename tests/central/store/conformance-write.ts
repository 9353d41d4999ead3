/**
 * Conformance: what `insertEvents` promises. Events come back exactly as written, timestamps in
 * the documented canonical form, and a re-sent or repeated event is stored once (exactly once in
 * storage, DESIGN.md "Delivery contract") with the counts reporting it.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
import type { SuiteContext } from './conformance.ts';
import { iso, makeEvent, timeSlice, uniqueGateway } from './fixtures.ts';

export function writeCases(ctx: SuiteContext): void {
  it('returns every field of the events it stored, unchanged', async () => {
    const gateway = uniqueGateway('roundtrip');
    const t = timeSlice();
    const full = makeEvent(gateway, 1, iso(t), {
      received: iso(t + 1500),
      clock_offset_ms: -1_700_000_000_123,
      source: 'modbus',
      kind: 'security',
      action: 'modbus.write_single_register',
      severity: 0,
      message: 'Write to holding register 40001 — «Ölpumpe» 🛢️ "quoted" \'single\' \\ back',
      host: 'PLC-7.plant.local',
      device: { id: 'modbus:10.0.0.5/1', protocol_id: '1', name: 'Pump controller' },
      src: { ip: '10.0.0.99', port: 50_122 },
      dst: { ip: 'fe80::1%eth0', port: 502 },
      fields: {
        unit_id: 1,
        register: 40_001,
        values: [1, 2.5, -3],
        nested: { ok: true, none: null },
        'dotted.key': 'x',
      },
      tags: ['ot', 'write', 'déjà vu', ''],
      threat: { rule_id: 'r-1', rule_name: 'Unexpected write', techniques: ['T0836', 'T0855'] },
    });
    const minimal = makeEvent(gateway, 2, iso(t + 1), { severity: 7, kind: 'alert', message: '' });
    const partial = makeEvent(gateway, 3, iso(t + 2), {
      device: { id: 'syslog:sw1' },
      src: { ip: '10.0.0.1' },
    });
    const portOnly = makeEvent(gateway, 4, iso(t + 3), {
      dst: { port: 0 },
      threat: { rule_id: 'r-2', techniques: [] },
    });
    const written = [full, minimal, partial, portOnly];

    assert.deepEqual(await ctx.store.insertEvents(written), { inserted: 4, duplicates: 0 });
    const page = await ctx.store.queryEvents({ gateway, limit: 10 });
    assert.deepEqual(page.events, [...written].reverse());
    for (const event of page.events) {
      const parsed = parseEvent(event);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
      assert.deepEqual(
        parsed.event,
        written.find((e) => e.seq === event.seq),
      );
    }
    assert.equal(page.nextCursor, null);
  });

  it('returns timestamps in UTC at ms precision, or µs when the event carried µs', async () => {
    const gateway = uniqueGateway('precision');
    const day = new Date(timeSlice()).toISOString().slice(0, 10);
    const cases: Array<[written: string, read: string]> = [
      [`${day}T10:00:00.123Z`, `${day}T10:00:00.123Z`],
      [`${day}T10:00:01.123456Z`, `${day}T10:00:01.123456Z`],
      [`${day}T10:00:02.000001Z`, `${day}T10:00:02.000001Z`],
      [`${day}T10:00:03Z`, `${day}T10:00:03.000Z`],
      [`${day}T10:00:04.5Z`, `${day}T10:00:04.500Z`],
      [`${day}T10:00:05.123000Z`, `${day}T10:00:05.123Z`],
      [`${day}T12:00:06.250+02:00`, `${day}T10:00:06.250Z`],
      [`${day}T10:00:07.123456789Z`, `${day}T10:00:07.123456Z`],
    ];
    const events = cases.map(([ts], i) => makeEvent(gateway, i + 1, ts, { received: ts }));
    assert.deepEqual(await ctx.store.insertEvents(events), { inserted: cases.length, duplicates: 0 });
    const page = await ctx.store.queryEvents({ gateway, limit: 100 });
    const bySeq = new Map(page.events.map((e) => [e.seq, e]));
    cases.forEach(([written, read], i) => {
      const event = bySeq.get(i + 1);
      assert.equal(event?.ts, read, `ts written as ${written}`);
      assert.equal(event?.received, read, `received written as ${written}`);
    });
    // Re-sending the same non-canonical text finds the stored twin.
    assert.deepEqual(await ctx.store.insertEvents(events), { inserted: 0, duplicates: cases.length });
  });

  it('stores a re-sent batch once and counts the duplicates', async () => {
    const gateway = uniqueGateway('resend');
    const t = timeSlice();
    const batch = Array.from({ length: 10 }, (_, i) => makeEvent(gateway, i + 1, iso(t + i)));
    assert.deepEqual(await ctx.store.insertEvents(batch), { inserted: 10, duplicates: 0 });
    assert.deepEqual(await ctx.store.insertEvents(batch), { inserted: 0, duplicates: 10 });
    const more = Array.from({ length: 5 }, (_, i) => makeEvent(gateway, i + 11, iso(t + 10 + i)));
    assert.deepEqual(await ctx.store.insertEvents([...batch.slice(5), ...more]), {
      inserted: 5,
      duplicates: 5,
    });
    const page = await ctx.store.queryEvents({ gateway, limit: 100 });
    assert.deepEqual(
      page.events.map((e) => e.seq),
      Array.from({ length: 15 }, (_, i) => 15 - i),
    );
  });

  it('stores tags with array-literal and COPY special characters unchanged', async () => {
    const gateway = uniqueGateway('tags');
    const t = timeSlice();
    const tags = ['a"b', 'c\\d', '{x,y}', 'NULL', 'tab\there', 'new\nline', ' padded ', ',', '\\"'];
    const tagged = makeEvent(gateway, 1, iso(t), { tags });
    const untagged = makeEvent(gateway, 2, iso(t + 1));
    delete (untagged as { tags?: string[] }).tags;
    assert.deepEqual(await ctx.store.insertEvents([tagged, untagged]), { inserted: 2, duplicates: 0 });
    const page = await ctx.store.queryEvents({ gateway, limit: 10 });
    assert.deepEqual(page.events.find((e) => e.seq === 1)?.tags, tags);
    assert.deepEqual(page.events.find((e) => e.seq === 2)?.tags ?? [], []);
  });

  it('counts events repeated inside one batch as duplicates', async () => {
    const gateway = uniqueGateway('repeat');
    const t = timeSlice();
    const a = makeEvent(gateway, 1, iso(t));
    const b = makeEvent(gateway, 2, iso(t + 1));
    assert.deepEqual(await ctx.store.insertEvents([a, a, b, b, b]), { inserted: 2, duplicates: 3 });
    assert.deepEqual(await ctx.store.insertEvents([]), { inserted: 0, duplicates: 0 });
    assert.equal((await ctx.store.queryEvents({ gateway, limit: 100 })).events.length, 2);
  });

  it('stores an event once when the same batch arrives twice at the same moment', async () => {
    const gateway = uniqueGateway('race');
    const t = timeSlice();
    const batch = Array.from({ length: 200 }, (_, i) => makeEvent(gateway, i + 1, iso(t + i)));
    const results = await Promise.all([
      ctx.store.insertEvents(batch),
      ctx.store.insertEvents([...batch].reverse()),
    ]);
    assert.equal(results[0].inserted + results[1].inserted, 200);
    assert.equal(results[0].duplicates + results[1].duplicates, 200);
    assert.equal((await ctx.store.queryEvents({ gateway, limit: 1000 })).events.length, 200);
  });

  it('stores a batch of 5,000 events in one call and caps a page at 1,000', async () => {
    const gateway = uniqueGateway('bulk');
    const t = timeSlice();
    const batch = Array.from({ length: 5000 }, (_, i) =>
      makeEvent(gateway, i + 1, iso(t + Math.floor(i / 3)), {
        message: `bulk message ${i}`,
        tags: [`n${i % 7}`],
      }),
    );
    assert.deepEqual(await ctx.store.insertEvents(batch), { inserted: 5000, duplicates: 0 });
    const page = await ctx.store.queryEvents({ gateway, limit: 5000 });
    assert.equal(page.events.length, 1000);
    assert.notEqual(page.nextCursor, null);
    let seen = page.events.length;
    let cursor = page.nextCursor;
    while (cursor !== null) {
      const next = await ctx.store.queryEvents({ gateway, limit: 1000, cursor });
      seen += next.events.length;
      cursor = next.nextCursor;
    }
    assert.equal(seen, 5000);
  });

  it('stores text with NUL characters instead of failing the batch (NUL becomes U+FFFD)', async () => {
    const gateway = uniqueGateway('nul');
    const event = makeEvent(gateway, 1, iso(timeSlice()), {
      message: 'a\u0000b',
      host: 'h\u0000',
      tags: ['t\u0000'],
      fields: { 'k\u0000': 'v\u0000', list: ['\u0000'] },
    });
    assert.deepEqual(await ctx.store.insertEvents([event]), { inserted: 1, duplicates: 0 });
    const [stored] = (await ctx.store.queryEvents({ gateway, limit: 1 })).events;
    assert.equal(stored?.message, 'a\uFFFDb');
    assert.equal(stored?.host, 'h\uFFFD');
    assert.deepEqual(stored?.tags, ['t\uFFFD']);
    assert.deepEqual(stored?.fields, { 'k\uFFFD': 'v\uFFFD', list: ['\uFFFD'] });
    assert.deepEqual(await ctx.store.insertEvents([event]), { inserted: 0, duplicates: 1 });
  });
}
