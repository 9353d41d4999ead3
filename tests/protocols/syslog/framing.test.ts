/**
 * RFC 6587 deframer recovery: what happens to bad lengths, oversized frames and streams that end
 * mid-frame. The happy paths (every split of valid streams) are in rfc-examples.test.ts and the
 * property tests in tests/fuzz/syslog-deframe.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSyslogDeframer, type DeframeResult, frameLf } from '../../../protocols/syslog/index.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (r: DeframeResult) => r.frames.map((f) => new TextDecoder().decode(f));

function run(
  maxFrameBytes: number,
  ...chunks: string[]
): { frames: string[]; errors: DeframeResult['errors'] } {
  const d = createSyslogDeframer({ maxFrameBytes });
  const results = [...chunks.map((c) => d.push(enc(c))), d.end()];
  return { frames: results.flatMap(text), errors: results.flatMap((r) => r.errors) };
}

describe('RFC 6587 deframer recovery', () => {
  test('a length not followed by SP is an error, and the frame is read as LF-terminated', () => {
    const r = run(100, '12ab\n<13>next\n');
    assert.deepEqual(r.frames, ['12ab', '<13>next']);
    assert.deepEqual(
      r.errors.map((e) => e.code),
      ['invalid_length'],
    );
  });

  test('a message without PRI that starts with a date is kept (the digits were not a length)', () => {
    const r = run(100, '2024-01-01 boot complete\n');
    assert.deepEqual(r.frames, ['2024-01-01 boot complete']);
    assert.equal(r.errors[0]?.code, 'invalid_length');
  });

  test('an octet count over the limit is skipped exactly, keeping the stream in sync', () => {
    const r = run(10, '15 <13>aaaaaaaaaaa', '5 <13>b', '<13>c\n');
    assert.deepEqual(r.frames, ['<13>b', '<13>c']);
    assert.deepEqual(r.errors, [
      {
        code: 'frame_too_large',
        message: 'octet-counted frame of 15 bytes exceeds the 10 byte limit; dropped',
        bytes: 15,
      },
    ]);
  });

  test('an absurd count (more digits than the limit needs, plus one) is garbage, not a frame to skip', () => {
    const r = run(100, '99999999 <13>x\n<13>y\n');
    assert.deepEqual(r.frames, ['99999999 <13>x', '<13>y']);
    assert.equal(r.errors[0]?.code, 'invalid_length');
  });

  test('an LF frame over the limit is dropped up to the next LF, counting the bytes', () => {
    const r = run(8, '<13>0123456789', 'abcdef\n<13>ok\n');
    assert.deepEqual(r.frames, ['<13>ok']);
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.bytes]),
      [['frame_too_large', 20]],
    );
  });

  test('end() flushes an unterminated LF frame and reports a cut-short octet-counted one', () => {
    assert.deepEqual(run(100, '<13>last words').frames, ['<13>last words']);
    const cut = run(100, '20 <13>only');
    assert.deepEqual(cut.frames, []);
    assert.deepEqual(
      cut.errors.map((e) => [e.code, e.bytes]),
      [['truncated_frame', 8]],
    );
    assert.deepEqual(run(100, '42').frames, ['42'], 'bare digits at the end are an LF frame');
  });

  test('empty frames between trailers are skipped; a CR split from its LF is still stripped', () => {
    assert.deepEqual(run(100, '\n\n<13>a\r', '\n\0\0<13>b\0').frames, ['<13>a', '<13>b']);
  });

  test('a frame whole in its chunk is a view of it, not a copy (LF and octet-counted)', () => {
    const d = createSyslogDeframer({ maxFrameBytes: 100 });
    const chunk = enc('<13>abc\r\n7 <13>def<13>ghi\n');
    const { frames } = d.push(chunk);
    assert.deepEqual(text({ frames, errors: [] }), ['<13>abc', '<13>def', '<13>ghi']);
    for (const f of frames) assert.equal(f.buffer, chunk.buffer);
  });

  test('a Node Buffer reused by the caller between pushes does not change a frame in progress', () => {
    const d = createSyslogDeframer({ maxFrameBytes: 100 });
    const octets = Buffer.from('20 <13>abcdefghijklmnop');
    const lf = Buffer.from('<13>par');
    const frames = [...d.push(octets.subarray(0, 8)).frames];
    octets.fill(0x58);
    frames.push(...d.push(Buffer.from('bcdefghijklmnop')).frames, ...d.push(lf).frames);
    lf.fill(0x58);
    frames.push(...d.push(Buffer.from('tial\n')).frames);
    assert.deepEqual(
      frames.map((f) => Buffer.from(f).toString()),
      ['<13>abcdefghijklmnop', '<13>partial'],
    );
  });

  test('frameLf appends one LF', () => {
    assert.deepEqual([...frameLf('<13>x')], [...enc('<13>x\n')]);
  });
});
