/**
 * S7 read answers as values for the device dashboard and the baselines: each data item is named
 * in S7 notation from its request's item (`request_items`: area, DB, byte offset, transport size)
 * and read as that type (INT signed, WORD unsigned, REAL float, BIT one bit), big-endian as S7
 * stores it. On the ICSNPP Snap7 trace through replay, then on the demo's station layout, then any
 * fields at all: never a throw, only finite numbers, at most 64.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Event, PendingEvent } from '../../../protocols/event/schema.ts';
import { eventValues, MAX_VALUES_PER_EVENT } from '../../../protocols/telemetry/values.ts';
import { replayFiles } from '../../../gateway/replay/index.ts';
import { sharedData } from '../../support/env.ts';

const answer = (fields: Record<string, unknown>): PendingEvent => ({
  ts: '2026-12-05T20:00:00.000Z',
  received: '2026-12-05T20:00:00.000Z',
  source: 's7comm',
  kind: 'telemetry',
  action: 's7comm.read_var',
  severity: 6,
  message: 'S7 read var response',
  device: { id: 's7comm:10.0.0.5' },
  fields: { direction: 'response', ...fields },
  tags: [],
});

const item = (area: string, db: number, byte: number, size: number, length = 1, bit = 0) => ({
  syntax_id: 16,
  area,
  db,
  byte_address: byte,
  bit_address: bit,
  transport_size: size,
  length,
});

test('Snap7 trace (ICSNPP snap7.pcap): read answers named after their request, flags as MD16 and MB0…', async (t) => {
  const pcap = sharedData(t, 's7comm', 'icsnpp', 'snap7.pcap');
  if (!pcap) return;
  const events: Event[] = [];
  await replayFiles([pcap], { write: (l) => events.push(JSON.parse(l) as Event) });
  const reads = events.filter((e) => e.action === 's7comm.read_var' && e.fields.direction === 'response');
  assert.equal(reads.length, 2);
  assert.deepEqual(eventValues(reads[0]!), [{ name: 'MD16', value: 0 }]);
  const bytes = eventValues(reads[1]!);
  assert.deepEqual(
    bytes.slice(0, 3).map((v) => v.name),
    ['MB0', 'MB1', 'MB2'],
  );
  assert.deepEqual(
    bytes.slice(0, 2).map((v) => v.value),
    [0xac, 0xde],
  );
  // Requests carry addresses, not values.
  const requests = events.filter((e) => e.action === 's7comm.read_var' && e.fields.direction === 'request');
  assert.ok(requests.length > 0 && requests.every((e) => eventValues(e).length === 0));
});

test('DB items: INT signed, WORD unsigned, REAL as float, a bit, several elements at their offsets', () => {
  const values = eventValues(
    answer({
      request_items: [
        item('data_blocks', 1, 0, 5),
        item('data_blocks', 1, 2, 4),
        item('data_blocks', 1, 4, 8),
        item('data_blocks', 1, 8, 1, 1, 3),
        item('data_blocks', 2, 10, 5, 2),
        item('data_blocks', 3, 0, 5),
      ],
      values: ['fffe', 'fffe', '42100000', '08', '00010002', ''],
    }),
  );
  assert.deepEqual(values, [
    { name: 'DB1.DBW0', value: -2 },
    { name: 'DB1.DBW2', value: 65534 },
    { name: 'DB1.DBD4', value: 36 },
    { name: 'DB1.DBX8.3', value: 0 },
    { name: 'DB2.DBW10', value: 1 },
    { name: 'DB2.DBW12', value: 2 },
  ]);
});

test('only read answers paired with their request carry values', () => {
  const items = [item('data_blocks', 1, 0, 5)];
  assert.deepEqual(eventValues(answer({ values: ['0001'] })), []);
  assert.deepEqual(
    eventValues({ ...answer({ request_items: items, values: ['0001'] }), action: 's7comm.write_var' }),
    [],
  );
  assert.deepEqual(eventValues(answer({ direction: 'request', items, values: ['0001'] })), []);
});

test('any fields: never throws, finite values only, at most MAX_VALUES_PER_EVENT', () => {
  const anyItem = fc.record({
    area: fc.constantFrom('data_blocks', 'flags', 'inputs', 'outputs', 'counter', 7, null),
    db: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.string()),
    byte_address: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.double(), fc.string()),
    bit_address: fc.integer({ min: 0, max: 7 }),
    transport_size: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.string()),
  });
  const hex = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('hex'));
  fc.assert(
    fc.property(
      fc.array(fc.oneof(anyItem, fc.anything()), { maxLength: 40 }),
      fc.array(fc.oneof(hex, fc.anything()), { maxLength: 40 }),
      (items, values) => {
        const out = eventValues(answer({ request_items: items, values }));
        assert.ok(out.length <= MAX_VALUES_PER_EVENT);
        for (const v of out) assert.ok(Number.isFinite(v.value) && v.name.length > 0);
      },
    ),
    { numRuns: 500 },
  );
});
