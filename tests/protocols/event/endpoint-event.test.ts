/**
 * `isoTime` (protocols/event/endpoint-event.ts) is `toISOString` with the formatted minute reused:
 * for any sequence of times, far apart or within the same minute, before the epoch or in six-digit
 * years, it gives exactly what `toISOString` gives, and throws on an invalid date as it does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isoTime } from '../../../protocols/event/endpoint-event.ts';

const MAX = 8.64e15; // ECMAScript §21.4.1.1: the range of a time value

test('isoTime equals toISOString for any sequence of times', () => {
  const anyTime = fc.integer({ min: -MAX, max: MAX });
  // Runs of times close together (the cached minute is reused), around any base, minute edges included.
  const run = fc
    .tuple(anyTime, fc.array(fc.integer({ min: -120_000, max: 120_000 }), { maxLength: 40 }))
    .map(([base, steps]) => steps.map((s) => Math.max(-MAX, Math.min(MAX, base - (base % 60_000) + s))));
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          anyTime.map((t) => [t]),
          run,
        ),
        { maxLength: 20 },
      ),
      (groups) => {
        for (const t of groups.flat())
          assert.equal(isoTime(new Date(t)), new Date(t).toISOString(), String(t));
      },
    ),
    { numRuns: 500 },
  );
});

test('isoTime: minute edges, before the epoch, six-digit years; an invalid date throws', () => {
  for (const t of [
    0,
    -1,
    59_999,
    60_000,
    -60_000,
    -60_001,
    1e12,
    MAX,
    -MAX,
    253_402_300_799_999,
    253_402_300_800_000,
  ])
    assert.equal(isoTime(new Date(t)), new Date(t).toISOString());
  assert.throws(() => isoTime(new Date(Number.NaN)), RangeError);
});
