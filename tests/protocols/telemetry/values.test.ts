/**
 * The numbers an event carries (protocols/telemetry/values.ts), which the device dashboard charts
 * and the baselines learn ranges of: the documented shapes of protocols/event/SPEC.md give the
 * expected names and values, and any `fields` at all (fast-check) give only finite numbers,
 * bounded in count and name length, and never a throw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { eventValues, MAX_VALUES_PER_EVENT } from '../../../protocols/telemetry/values.ts';

const base = (
  source: PendingEvent['source'],
  action: string,
  fields: Record<string, unknown>,
): PendingEvent => ({
  ts: '2026-01-01T00:00:00.000Z',
  received: '2026-01-01T00:00:00.000Z',
  source,
  kind: 'telemetry',
  action,
  severity: 6,
  message: '',
  fields,
  tags: [],
});

describe('values an event carries', () => {
  it('reads the documented shapes', () => {
    assert.deepEqual(
      eventValues(
        base('modbus', 'modbus.poll', {
          readings: { level: 41.5, pump: true, name: 'x' },
          units: { level: '%' },
        }),
      ),
      [
        { name: 'level', value: 41.5, unit: '%' },
        { name: 'pump', value: 1 },
      ],
    );
    // A write is charted at its request, a read at its response (with the request's address).
    assert.deepEqual(
      eventValues(
        base('modbus', 'modbus.write_multiple_registers', {
          direction: 'request',
          function_code: 16,
          address: 7,
          values: [1, 2],
        }),
      ).map((v) => [v.name, v.value]),
      [
        ['holding[7]', 1],
        ['holding[8]', 2],
      ],
    );
    assert.deepEqual(
      eventValues(
        base('modbus', 'modbus.read_holding_registers', {
          direction: 'request',
          function_code: 3,
          address: 7,
          quantity: 2,
        }),
      ),
      [],
    );
    assert.deepEqual(
      eventValues(
        base('modbus', 'modbus.read_coils', {
          direction: 'response',
          function_code: 1,
          address: 0,
          values: [1, 0],
        }),
      ).map((v) => v.name),
      ['coil[0]', 'coil[1]'],
    );
    assert.deepEqual(
      eventValues(base('mqtt', 'mqtt.telemetry', { topic: 'plant/tank1', values: { level: 3, ok: 'yes' } })),
      [{ name: 'plant/tank1/level', value: 3 }],
    );
    assert.deepEqual(
      eventValues(base('mqtt', 'mqtt.telemetry', { topic: 'plant/t', values: { value: 21.5 } })),
      [{ name: 'plant/t', value: 21.5 }],
    );
    assert.deepEqual(
      eventValues(
        base('coap', 'coap.telemetry_aggregate', {
          path: '/s/temp',
          aggregates: { value: { count: 2, min: 1, max: 3, avg: 2, last: 3 } },
        }),
      ),
      [{ name: '/s/temp', value: 2 }],
    );
    assert.deepEqual(eventValues(base('syslog', 'syslog.message', { values: { a: 1 } })), []);
  });

  it('any fields: finite numbers only, bounded, never a throw', () => {
    const actions = fc.constantFrom(
      'modbus.poll',
      'modbus.write_single_register',
      'mqtt.telemetry',
      'mqtt.telemetry_aggregate',
      'coap.telemetry',
      'syslog.message',
    );
    const sources = fc.constantFrom('modbus', 'mqtt', 'coap', 'syslog') as fc.Arbitrary<
      PendingEvent['source']
    >;
    const fields = fc.oneof(
      fc.dictionary(fc.string(), fc.anything()),
      fc.record({
        readings: fc.dictionary(
          fc.string({ maxLength: 300 }),
          fc.oneof(fc.double(), fc.boolean(), fc.string()),
          {
            maxKeys: 200,
          },
        ),
        units: fc.anything(),
      }),
      fc.record({
        direction: fc.constantFrom('request', 'response'),
        function_code: fc.integer({ min: 0, max: 30 }),
        address: fc.oneof(fc.integer(), fc.double(), fc.string()),
        values: fc.array(fc.oneof(fc.double(), fc.integer()), { maxLength: 300 }),
      }),
      fc.record({
        topic: fc.string(),
        values: fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.anything())),
        aggregates: fc.dictionary(fc.string(), fc.anything()),
      }),
    );
    fc.assert(
      fc.property(sources, actions, fields, (source, action, f) => {
        const values = eventValues(base(source, action, f as Record<string, unknown>));
        assert.ok(values.length <= MAX_VALUES_PER_EVENT);
        for (const v of values) {
          assert.ok(Number.isFinite(v.value));
          assert.ok(v.name.length <= 96);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
