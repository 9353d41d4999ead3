/**
 * An indicator set remembers its answer per address (central/enrich/intel.ts): what it matches
 * for an event must be what a set made afresh from the same indicators matches, for any address
 * (exact, inside a CIDR indicator, IPv4-mapped, not an address), asked in any order, again and
 * again; and a set made from other indicators (a feed reload) must not get the old set's answers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createIndicatorSet, type Indicator } from '../../../central/enrich/intel.ts';
import type { Event } from '../../../protocols/event/schema.ts';

const near = fc
  .tuple(fc.constantFrom('198.51.100', '203.0.113', '10.1.2', '192.0.2'), fc.nat(255))
  .map(([a, b]) => `${a}.${b}`);
const address = fc.oneof(
  near,
  near.map((a) => `::ffff:${a}`),
  fc.constantFrom('2001:db8::1', '2001:db8:1::7', 'not-an-ip', ''),
);
const indicator: fc.Arbitrary<Indicator> = fc.oneof(
  near.map((value) => ({ type: 'ip' as const, value })),
  fc.constantFrom(
    { type: 'cidr' as const, value: '203.0.113.0/25' },
    { type: 'cidr' as const, value: '10.1.2.128/26' },
    { type: 'cidr' as const, value: '2001:db8:1::/48' },
    { type: 'domain' as const, value: 'evil.example' },
  ),
);

function event(src: string | undefined, dst: string | undefined): Event {
  return {
    ...(src !== undefined && { src: { ip: src } }),
    ...(dst !== undefined && { dst: { ip: dst } }),
    fields: { hostname: 'a.evil.example' },
  } as unknown as Event;
}

describe('remembered intel matches', () => {
  it('match what a fresh set matches, for any address, in any order, twice', () => {
    fc.assert(
      fc.property(
        fc.array(indicator, { maxLength: 12 }),
        fc.array(fc.tuple(fc.option(address, { nil: undefined }), fc.option(address, { nil: undefined })), {
          minLength: 1,
          maxLength: 30,
        }),
        (indicators, pairs) => {
          const set = createIndicatorSet(indicators);
          for (const [src, dst] of [...pairs, ...[...pairs].reverse(), ...pairs]) {
            const e = event(src, dst);
            assert.deepStrictEqual(set.match(e), createIndicatorSet(indicators).match(e), `${src} ${dst}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a set made from other indicators gives its own answers', () => {
    const before = createIndicatorSet([{ type: 'ip', value: '198.51.100.7' }]);
    const after = createIndicatorSet([{ type: 'cidr', value: '198.51.100.0/24' }]);
    const e = event('198.51.100.7', '198.51.100.8');
    assert.deepStrictEqual(
      before.match(e).map((h) => [h.field, h.indicator.value]),
      [['src.ip', '198.51.100.7']],
    );
    assert.deepStrictEqual(
      after.match(e).map((h) => [h.field, h.indicator.value]),
      [
        ['src.ip', '198.51.100.0/24'],
        ['dst.ip', '198.51.100.0/24'],
      ],
    );
    assert.deepStrictEqual(before.match(event('198.51.100.8', undefined)), []);
  });
});
