/**
 * The per-event checks of a link batch (central/link/batch-events.ts, SPEC §4.4 and §4.6) and the
 * per-gateway rate booking (central/link/rate-booking.ts, SPEC §4.9), as pure functions: an event
 * is kept only when it is valid, from the authenticated gateway, with the id `gateway:seq`, and
 * does not speak for central; every event of a batch is either kept or refused with one reason,
 * in order; the booked delay never exceeds the cap and adds up to the configured rate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkBatchEvent, checkBatchEvents } from '../../../central/link/batch-events.ts';
import { MAX_RATE_DELAY_MS, RateBooking } from '../../../central/link/rate-booking.ts';

const TS = '2026-12-06T00:00:00.000Z';

function event(gateway: string, seq: number, extra: Record<string, unknown> = {}) {
  return {
    v: 1,
    id: `${gateway}:${seq}`,
    gateway,
    seq,
    ts: TS,
    received: TS,
    source: 'syslog',
    kind: 'telemetry',
    action: 'syslog.message',
    severity: 5,
    message: 'hello',
    fields: {},
    tags: [],
    ...extra,
  };
}

describe('batch event checks', () => {
  it('keeps a valid event of the gateway', () => {
    const checked = checkBatchEvent(event('gw-1', 7), 'gw-1');
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.equal(checked.event.id, 'gw-1:7');
  });

  it('refuses each kind of bad event with its reason', () => {
    const cases: [unknown, string][] = [
      [{ not: 'an event' }, 'invalid'],
      [event('gw-2', 1), 'wrong_gateway'],
      [{ ...event('gw-1', 1), id: 'gw-1:2' }, 'bad_id'],
      [event('gw-1', 1, { source: 'central' }), 'reserved_source'],
      [event('gw-1', 1, { action: 'central.gateway_revoked' }), 'reserved_action'],
    ];
    for (const [raw, reason] of cases) {
      const checked = checkBatchEvent(raw, 'gw-1');
      assert.deepEqual(checked, { ok: false, reason }, JSON.stringify(raw));
    }
  });

  it('sorts every event of a batch into kept or refused, in order, with the last clock offset', () => {
    const item = fc.oneof(
      fc.nat({ max: 1000 }).map((seq) => ({ raw: event('gw-1', seq) as unknown, ok: true })),
      fc.nat({ max: 1000 }).map((seq) => ({ raw: event('gw-9', seq) as unknown, ok: false })),
      fc.tuple(fc.nat({ max: 1000 }), fc.integer({ min: -5000, max: 5000 })).map(([seq, offset]) => ({
        raw: event('gw-1', seq, { clock_offset_ms: offset }) as unknown,
        ok: true,
      })),
      fc.anything().map((raw) => ({ raw, ok: false })),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), (items) => {
        const { valid, rejected, offset } = checkBatchEvents(
          items.map((i) => i.raw),
          'gw-1',
        );
        const kept = items.filter((i) => i.ok);
        assert.equal(valid.length, kept.length);
        assert.equal(rejected.length, items.length - kept.length);
        assert.deepEqual(
          valid.map((e) => e.seq),
          kept.map((i) => (i.raw as { seq: number }).seq),
        );
        const offsets = kept
          .map((i) => (i.raw as { clock_offset_ms?: number }).clock_offset_ms)
          .filter((o) => o !== undefined);
        assert.equal(offset, offsets.at(-1));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws and always answers a bounded reason, whatever it is given', () => {
    const reasons = new Set(['invalid', 'wrong_gateway', 'bad_id', 'reserved_source', 'reserved_action']);
    fc.assert(
      fc.property(fc.anything(), fc.string({ minLength: 1, maxLength: 8 }), (raw, gateway) => {
        const checked = checkBatchEvent(raw, gateway);
        if (!checked.ok) assert.ok(reasons.has(checked.reason));
        else assert.equal(checked.event.gateway, gateway);
      }),
      { numRuns: 500 },
    );
  });
});

describe('rate booking', () => {
  it('asks for no wait without a limit', () => {
    const rate = new RateBooking(0);
    assert.equal(rate.book(1_000_000, 0), 0);
  });

  it('books events / rate seconds per batch, from now or from the last booking', () => {
    const rate = new RateBooking(100);
    assert.equal(rate.book(50, 1000), 500);
    assert.equal(rate.book(50, 1000), 1000);
    // After the booked time has passed the booking starts again from now.
    assert.equal(rate.book(100, 10_000), 1000);
  });

  it('never asks for more than the cap or less than nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.tuple(fc.nat({ max: 10_000 }), fc.nat({ max: 5000 })), { maxLength: 40 }),
        (eventsPerSecond, batches) => {
          const rate = new RateBooking(eventsPerSecond);
          let now = 0;
          for (const [events, step] of batches) {
            now += step;
            const delay = rate.book(events, now);
            assert.ok(delay >= 0 && delay <= MAX_RATE_DELAY_MS, `${delay}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
