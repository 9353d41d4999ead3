/**
 * The detect stage's view of an event for the rules (gateway/pipeline/stages/observe.ts
 * `ruleView`) names every member in one order instead of spreading the event: whatever members an
 * event has, the rules must read the same values through it as through the event, plus its id.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ruleView } from '../../../gateway/pipeline/stages/observe.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const endpoint = fc.record({ ip: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) }, { requiredKeys: [] });

const eventArb: fc.Arbitrary<PendingEvent> = fc
  .record({
    ts: fc.constant('2026-12-06T10:00:00.000Z'),
    received: fc.constant('2026-12-06T10:00:00.001Z'),
    time_source: optional(fc.constantFrom('device' as const, 'gateway' as const)),
    clock_offset_ms: optional(fc.integer()),
    source: fc.constantFrom('syslog' as const, 'mqtt' as const, 'modbus' as const),
    kind: fc.constantFrom('security' as const, 'telemetry' as const),
    action: fc.string({ minLength: 1, maxLength: 20 }),
    severity: fc.integer({ min: 0, max: 7 }),
    message: fc.string(),
    host: optional(fc.string()),
    device: optional(fc.record({ id: fc.string({ minLength: 1 }) })),
    src: optional(endpoint),
    dst: optional(endpoint),
    fields: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
    tags: fc.array(fc.string()),
  })
  // Optional members absent, not present and undefined, as sources make them.
  .map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as PendingEvent);

describe('detect stage rule view', () => {
  it('property: every member of the event reads the same through the view, absent ones as undefined', () => {
    fc.assert(
      fc.property(eventArb, fc.string({ minLength: 3 }), (event, id) => {
        const view = ruleView(event, id) as unknown as Record<string, unknown>;
        for (const [key, value] of Object.entries(event)) assert.equal(view[key], value, key);
        assert.equal(view.id, id);
        assert.equal(view.v, 1);
        for (const [key, value] of Object.entries(view))
          if (!(key in event) && !['v', 'id', 'gateway', 'seq'].includes(key))
            assert.equal(value, undefined, key);
      }),
    );
  });
});
