/**
 * The skew of an event's own clock against its arrival (central/store/clock-skew.ts): the shortcut
 * taken when ts is received gives what the parsing form gives, and flagging follows the bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Event } from '../../../protocols/event/schema.ts';
import { CLOCK_SKEW_TAG, clockSkewMs, flagClockSkew } from '../../../central/store/clock-skew.ts';
import { makeEvent } from './fixtures.ts';

/** The definition: ts minus (received minus the gateway's offset), both parsed. */
function reference(event: Event): number {
  return Date.parse(event.ts) - (Date.parse(event.received) - (event.clock_offset_ms ?? 0));
}

const time = fc
  .integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2040-01-01T00:00:00Z') })
  .map((ms) => new Date(ms).toISOString());
const offset = fc.option(fc.integer({ min: -1e12, max: 1e12 }), { nil: undefined });

describe('clock skew', () => {
  it('equals the parsed definition whether or not ts is received', () => {
    fc.assert(
      fc.property(time, time, offset, fc.boolean(), (ts, received, clock_offset_ms, same) => {
        const event: Event = {
          ...makeEvent('skew-gw', 1, ts),
          received: same ? ts : received,
          ...(clock_offset_ms !== undefined && { clock_offset_ms }),
        };
        assert.equal(clockSkewMs(event), reference(event));
      }),
      { numRuns: 500, seed: 18 },
    );
  });

  it('flags an event timed by the gateway whose offset exceeds the bound, and only then', () => {
    const ts = '2026-01-01T00:00:00.000Z';
    const event: Event = { ...makeEvent('skew-gw', 1, ts), received: ts, clock_offset_ms: 600_000 };
    assert.ok(flagClockSkew(event, 300_000).tags.includes(CLOCK_SKEW_TAG));
    assert.equal(flagClockSkew(event, 900_000), event);
  });
});
