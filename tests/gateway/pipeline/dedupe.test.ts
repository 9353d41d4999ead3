/**
 * The dedupe stage against a model of it (a window per key joined from every field's value):
 * whatever events arrive, with whatever values shared between them, the same events go on, the
 * same repeats are dropped and the same count events come out, at the same moments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { createDedupeStage } from '../../../gateway/pipeline/stages/dedupe.ts';
import { pathReader } from '../../../gateway/pipeline/match.ts';
import { pending } from '../../support/link-client.ts';

const T0 = Date.parse('2026-12-07T10:00:00Z');

function event(host: string, program: string | undefined, message: string, ms: number): PendingEvent {
  const ts = new Date(ms).toISOString();
  return { ...pending(message), ts, received: ts, host, fields: program === undefined ? {} : { program } };
}

/** What the stage is meant to do, the simple way. */
function model(fields: readonly string[], windowMs: number) {
  const readers = fields.map(pathReader);
  const windows = new Map<string, { event: PendingEvent; since: number; repeats: number; last: string }>();
  const key = (e: PendingEvent) => readers.map((r) => String(r(e) ?? '')).join('\u0000');
  const closed = (w: { event: PendingEvent; repeats: number; last: string }, out: string[]) => {
    if (w.repeats > 0)
      out.push(`count ${w.event.host}/${w.event.message} ×${w.repeats} ${w.event.ts}..${w.last}`);
  };
  return {
    process(e: PendingEvent, now: number, out: string[]) {
      const k = key(e);
      const w = windows.get(k);
      if (w && now - w.since < windowMs) {
        w.repeats++;
        w.last = e.ts;
        return null;
      }
      if (w) {
        windows.delete(k);
        closed(w, out);
      }
      windows.set(k, { event: e, since: now, repeats: 0, last: e.ts });
      return e;
    },
    flush(now: number, final: boolean, out: string[]) {
      for (const [k, w] of windows)
        if (final || now - w.since >= windowMs) {
          windows.delete(k);
          closed(w, out);
        }
    },
  };
}

describe('dedupe stage', () => {
  it('property: the same events go on and the same counts come out as a window per joined key', () => {
    const step = fc.record({
      host: fc.constantFrom('plc-1', 'plc-2', 'hmi'),
      program: fc.constantFrom(undefined, 'sshd', 'app'),
      message: fc.constantFrom('link up', 'link down', '', 'plc-1'),
      advance: fc.integer({ min: 0, max: 6000 }),
      tick: fc.boolean(),
    });
    const fieldSets = [
      ['host', 'fields.program', 'message'],
      ['message', 'host'],
      ['host'],
      ['fields.program'],
      [],
    ];
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.constantFrom(...fieldSets), (steps, fields) => {
        const windowMs = 10_000;
        const stage = createDedupeStage({
          name: 'd',
          matches: () => true,
          fields,
          windowSecs: windowMs / 1000,
        });
        const expected = model(fields, windowMs);
        const got: string[] = [];
        const want: string[] = [];
        const ctx = {
          nowMs: T0,
          emit: (e: PendingEvent) => {
            const f = e.fields as { duplicates: number; first_seen: string; last_seen: string };
            got.push(
              `count ${e.host}/${e.message.replace(/ \(repeated \d+ times\)$/, '')} ×${f.duplicates} ${f.first_seen}..${f.last_seen}`,
            );
          },
        };
        for (const s of steps) {
          ctx.nowMs += s.advance;
          const e = event(s.host, s.program, s.message, ctx.nowMs);
          got.push(stage.process(e, ctx) === e ? `on ${s.host}/${s.message}` : 'dropped');
          want.push(expected.process(e, ctx.nowMs, want) === e ? `on ${s.host}/${s.message}` : 'dropped');
          if (s.tick) {
            stage.flush!(ctx, false);
            expected.flush(ctx.nowMs, false, want);
          }
        }
        stage.flush!(ctx, true);
        expected.flush(ctx.nowMs, true, want);
        // Within one flush, windows close in an order of their own: compare each flush's counts as sets.
        assert.deepEqual(normalise(got), normalise(want));
      }),
      { numRuns: 500 },
    );
  });
});

/** Runs of count lines sorted (their order within one flush or eviction is not the stage's contract). */
function normalise(lines: string[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  for (const l of [...lines, 'end']) {
    if (l.startsWith('count ')) run.push(l);
    else {
      out.push(...run.sort(), l);
      run = [];
    }
  }
  return out;
}
