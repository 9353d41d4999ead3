/**
 * The fast path of central's event validation (central/link/event-check.ts) against the zod
 * schema it stands in for, on values as the link codec hands them over (JSON-parsed): whenever
 * the fast path accepts, zod accepts and outputs a deeply equal event with the same key order;
 * the fast path with its zod fallback accepts and rejects exactly what zod does, with zod's
 * error; and it does take the common valid events (so it is not silently bypassed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkLinkEvent,
  EVENT_SCHEMA_FINGERPRINT,
  eventSchemaFingerprint,
  FAST_PATH_ENABLED,
  fastParseEvent,
} from '../../../central/link/event-check.ts';
import { eventSchema, parseEvent } from '../../../protocols/event/schema.ts';
import { common, input, RUNS } from './event-arbitraries.ts';

describe('central link event check', () => {
  it('is written for the current event schema (else it would pass everything to zod)', () => {
    assert.equal(
      eventSchemaFingerprint(),
      EVENT_SCHEMA_FINGERPRINT,
      'eventSchema changed: update event-check.ts',
    );
    assert.equal(FAST_PATH_ENABLED, true);
  });

  it('accepts only what zod accepts, with an identical output (values and key order)', () => {
    fc.assert(
      fc.property(input, (value) => {
        const fast = fastParseEvent(value);
        const zod = eventSchema.safeParse(value);
        if (fast === undefined) return;
        assert.ok(zod.success, `fast path accepted what zod rejects: ${JSON.stringify(value).slice(0, 500)}`);
        assert.deepStrictEqual(fast, zod.data);
        assert.equal(JSON.stringify(fast), JSON.stringify(zod.data));
      }),
      { numRuns: RUNS },
    );
  });

  it('is exercised on both sides of every limit (the properties above are not vacuous)', () => {
    const sample = fc.sample(input, { numRuns: 2000, seed: 7 });
    const fast = sample.filter((v) => fastParseEvent(v) !== undefined).length;
    const zod = sample.filter((v) => eventSchema.safeParse(v).success).length;
    assert.ok(fast > 400 && zod - fast < 100, `fast path took ${fast}, zod accepted ${zod} of 2000`);
    assert.ok(sample.length - zod > 500, `only ${sample.length - zod} of 2000 were invalid`);
  });

  it('with its zod fallback, accepts and rejects exactly what parseEvent does', () => {
    fc.assert(
      fc.property(input, (value) => {
        const checked = checkLinkEvent(value);
        const reference = parseEvent(value);
        assert.equal(checked.ok, reference.ok);
        if (checked.ok && reference.ok)
          assert.equal(JSON.stringify(checked.event), JSON.stringify(reference.event));
        if (!checked.ok && !reference.ok) assert.equal(checked.error, reference.error);
      }),
      { numRuns: RUNS },
    );
  });

  it('takes the fast path for the events gateways send', () => {
    fc.assert(
      fc.property(common, (value) => {
        const fast = fastParseEvent(value);
        assert.ok(fast, `fast path refused a valid event: ${JSON.stringify(value).slice(0, 500)}`);
        assert.deepStrictEqual(fast, eventSchema.parse(value));
      }),
      { numRuns: RUNS },
    );
  });

  it('leaves a __proto__ key in fields to zod, which drops it', () => {
    const value = JSON.parse(
      '{"v":1,"id":"g:1","gateway":"g","seq":1,"ts":"2024-05-01T12:00:00Z","received":"2024-05-01T12:00:00Z","source":"syslog","kind":"telemetry","action":"a","severity":1,"message":"m","fields":{"__proto__":{"x":1},"a":1}}',
    ) as unknown;
    assert.equal(fastParseEvent(value), undefined);
    const checked = checkLinkEvent(value);
    assert.ok(checked.ok);
    assert.deepStrictEqual(Object.keys(checked.event.fields), ['a']);
    assert.equal(Object.getPrototypeOf(checked.event.fields), Object.prototype);
  });
});
