/**
 * Report periods (central/reports/period.ts) as properties, over zones with and without daylight
 * saving (and Santiago, whose spring change skips midnight itself): the period contains the
 * instant, starts at local midnight (or the first instant of a day whose midnight is skipped),
 * lasts 23–25 hours a day and 167–169 hours a week starting on Monday, and periods tile time
 * without gap or overlap; the schedule owes exactly 1 + catch_up complete periods, oldest first,
 * the latest ending at least the delay before now. Bucket edges tile the period.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bucketEdges } from '../../../central/reports/data.ts';
import {
  duePeriods,
  localFields,
  periodContaining,
  previousPeriod,
} from '../../../central/reports/period.ts';

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'America/Santiago',
  'Pacific/Chatham',
];
const zone = fc.constantFrom(...ZONES);
const instant = fc.integer({
  min: Date.parse('2020-01-01T00:00:00Z'),
  max: Date.parse('2035-12-31T00:00:00Z'),
});
const H = 3_600_000;

describe('report periods', () => {
  it('a day contains the instant, starts at local midnight and lasts 23 to 25 hours', () => {
    fc.assert(
      fc.property(instant, zone, (t, tz) => {
        const p = periodContaining('daily', t, tz);
        assert.ok(p.start.getTime() <= t && t < p.end.getTime());
        const len = p.end.getTime() - p.start.getTime();
        assert.ok(len >= 23 * H && len <= 25 * H, `${tz} ${p.start.toISOString()} lasts ${len / H} h`);
        const f = localFields(p.start.getTime(), tz);
        // Midnight, or the first minute after a change that skipped it.
        assert.ok(f.hour === 0 || (f.hour === 1 && f.minute === 0), `${tz}: starts at ${f.hour}:${f.minute}`);
        const before = localFields(p.start.getTime() - 1, tz);
        assert.notEqual(`${before.year}-${before.month}-${before.day}`, `${f.year}-${f.month}-${f.day}`);
      }),
      { numRuns: 400 },
    );
  });

  it('a week starts on Monday and lasts 167 to 169 hours', () => {
    fc.assert(
      fc.property(instant, zone, (t, tz) => {
        const p = periodContaining('weekly', t, tz);
        assert.ok(p.start.getTime() <= t && t < p.end.getTime());
        const len = p.end.getTime() - p.start.getTime();
        assert.ok(len >= 167 * H && len <= 169 * H, `${len / H} h`);
        const f = localFields(p.start.getTime(), tz);
        assert.equal(new Date(Date.UTC(f.year, f.month - 1, f.day)).getUTCDay(), 1);
      }),
      { numRuns: 300 },
    );
  });

  it('periods tile time: the previous one ends where this one starts', () => {
    fc.assert(
      fc.property(instant, zone, fc.constantFrom('daily' as const, 'weekly' as const), (t, tz, kind) => {
        const p = { ...periodContaining(kind, t, tz), kind };
        const prev = previousPeriod(p);
        assert.equal(prev.end.getTime(), p.start.getTime());
        const next = periodContaining(kind, p.end.getTime(), tz);
        assert.equal(next.start.getTime(), p.end.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('a schedule owes 1 + catch_up complete periods, contiguous, the latest ended at least the delay ago', () => {
    fc.assert(
      fc.property(
        instant,
        zone,
        fc.constantFrom('daily' as const, 'weekly' as const),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 86_400 }),
        (now, tz, kind, catchUp, delaySecs) => {
          const due = duePeriods(kind, now, tz, delaySecs * 1000, catchUp);
          assert.equal(due.length, catchUp + 1);
          const last = due[due.length - 1]!;
          assert.ok(last.end.getTime() <= now - delaySecs * 1000);
          // The next one has not ended (by the delay) yet: nothing due is left out.
          const next = periodContaining(kind, last.end.getTime(), tz);
          assert.ok(next.end.getTime() > now - delaySecs * 1000);
          for (let i = 1; i < due.length; i++)
            assert.equal(due[i - 1]!.end.getTime(), due[i]!.start.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('bucket edges tile the period: hours for a day, local days for a week', () => {
    fc.assert(
      fc.property(instant, zone, fc.constantFrom('daily' as const, 'weekly' as const), (t, tz, kind) => {
        const p = periodContaining(kind, t, tz);
        const edges = bucketEdges(p);
        assert.equal(edges[0], p.start.getTime());
        assert.equal(edges[edges.length - 1], p.end.getTime());
        for (let i = 1; i < edges.length; i++) assert.ok(edges[i]! > edges[i - 1]!);
        if (kind === 'weekly') assert.equal(edges.length, 8);
        else assert.ok(edges.length >= 24 && edges.length <= 26);
      }),
      { numRuns: 200 },
    );
  });
});
