/**
 * The output of the link event check's fast path, beyond what zod accepts: zod's key order from
 * an input in any key order (the input left as it was), and a gateway's event handed back itself
 * when it already is zod's output, with no copy made per event.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fastParseEvent } from '../../../central/link/event-check.ts';
import { eventSchema } from '../../../protocols/event/schema.ts';
import { common, input, RUNS } from './event-arbitraries.ts';

describe('central link event check output', () => {
  it("outputs zod's key order from an input in any key order, and leaves the input as it was", () => {
    /** The same object with its keys (and those of its nested objects) in a shuffled order. */
    const shuffled = (value: unknown, order: number[]): unknown => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
      const keys = Object.keys(value);
      const rank = (k: string) => order[keys.indexOf(k) % order.length]! * 100 + keys.indexOf(k);
      const out: Record<string, unknown> = {};
      for (const k of keys.sort((a, b) => rank(a) - rank(b)))
        out[k] =
          k === 'fields'
            ? (value as Record<string, unknown>)[k]
            : shuffled((value as Record<string, unknown>)[k], order);
      return out;
    };
    const reordered = fc
      .tuple(fc.oneof(input, common), fc.array(fc.nat({ max: 30 }), { minLength: 1, maxLength: 20 }))
      .map(([v, order]) => JSON.parse(JSON.stringify(shuffled(v, order))) as unknown);
    fc.assert(
      fc.property(reordered, (value) => {
        const before = JSON.stringify(value);
        const fast = fastParseEvent(value);
        assert.equal(JSON.stringify(value), before);
        if (fast === undefined) return;
        const zod = eventSchema.safeParse(value);
        assert.ok(zod.success);
        assert.deepStrictEqual(fast, zod.data);
        assert.equal(JSON.stringify(fast), JSON.stringify(zod.data));
      }),
      { numRuns: RUNS },
    );
  });

  it("outputs a gateway's event itself, not a copy (the input is already zod's output)", () => {
    fc.assert(
      fc.property(common, (value) => {
        const v = value as Record<string, unknown>;
        fc.pre(v.fields !== undefined && v.tags !== undefined);
        assert.equal(fastParseEvent(value), value);
      }),
      { numRuns: 200 },
    );
  });
});
