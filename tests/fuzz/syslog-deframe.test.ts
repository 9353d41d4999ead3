/**
 * Property tests for the RFC 6587 syslog deframer: it returns exactly the framed messages
 * (octet-counted, LF-framed, mixed) however the stream is chunked, never throws on garbage (its
 * errors typed, its frames non-empty and within the limit), and recovers after garbage. Seeds are
 * random; a failure prints its seed and counterexample for replay.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createSyslogDeframer, frameLf, frameOctetCounting } from '../../protocols/syslog/index.ts';
import { concat } from '../protocols/pcap/builders.ts';

const FRAMING_ERRORS = new Set(['invalid_length', 'frame_too_large', 'truncated_frame']);

/** Splits bytes at the given cut points. */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

function deframe(stream: Uint8Array, cuts: number[], maxFrameBytes: number) {
  const d = createSyslogDeframer({ maxFrameBytes });
  const results = [...chunks(stream, cuts).map((c) => d.push(c)), d.end()];
  return { frames: results.flatMap((r) => r.frames), errors: results.flatMap((r) => r.errors) };
}

describe('RFC 6587 deframer', () => {
  /** A message safe for LF framing: no LF or NUL, no leading digit 1–9, no trailing CR. */
  const lfSafe = fc.uint8Array({ minLength: 1, maxLength: 150 }).map((b) => {
    const out = b.map((x) => (x === 10 || x === 0 ? 32 : x));
    if (out[0]! >= 49 && out[0]! <= 57) out[0] = 60;
    if (out[out.length - 1] === 13) out[out.length - 1] = 62;
    return out;
  });
  const framed = fc.oneof(
    fc
      .uint8Array({ minLength: 1, maxLength: 150 })
      .map((m) => ({ message: m, frame: frameOctetCounting(m) })),
    lfSafe.map((m) => ({ message: m, frame: frameLf(m) })),
  );
  const cuts = fc.array(fc.nat(), { maxLength: 12 });

  test('any chunking of octet-counted, LF-framed and mixed streams yields exactly the messages', () => {
    fc.assert(
      fc.property(fc.array(framed, { minLength: 1, maxLength: 15 }), cuts, (items, cutPoints) => {
        const { frames, errors } = deframe(concat(...items.map((i) => i.frame)), cutPoints, 150);
        assert.deepEqual(errors, []);
        assert.deepEqual(
          frames,
          items.map((i) => i.message),
        );
      }),
      { numRuns: 500 },
    );
  });

  test('random garbage never throws; errors are typed, frames non-empty and within the limit', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        cuts,
        fc.integer({ min: 1, max: 120 }),
        (bytes, cutPoints, max) => {
          const { frames, errors } = deframe(bytes, cutPoints, max);
          for (const e of errors) assert.ok(FRAMING_ERRORS.has(e.code) && e.bytes >= 0, JSON.stringify(e));
          for (const f of frames) assert.ok(f.length > 0 && f.length <= max);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('valid frames after garbage (without SP) and a LF are recovered', () => {
    const garbage = fc.uint8Array({ maxLength: 300 }).map((b) => b.map((x) => (x === 32 ? 33 : x)));
    fc.assert(
      fc.property(
        garbage,
        fc.array(framed, { minLength: 1, maxLength: 8 }),
        cuts,
        (junk, items, cutPoints) => {
          const stream = concat(junk, Uint8Array.of(10), ...items.map((i) => i.frame));
          const { frames } = deframe(stream, cutPoints, 150);
          assert.deepEqual(
            frames.slice(-items.length),
            items.map((i) => i.message),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
