/**
 * The gateway bundle's ws masking (firmware-shims/build/ws-mask.ts, in place of bufferutil): byte
 * for byte RFC 6455 §5.3's `j = i MOD 4` masking, whatever the lengths, offsets and alignments of
 * source and output, in place or into another buffer (fast-check against the byte loop); and
 * unmask undoes mask. The bundle test checks the bundle uses it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mask, unmask } from '../../firmware-shims/build/ws-mask.ts';

/** RFC 6455 §5.3, as written. */
function reference(source: Uint8Array, key: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = source[i]! ^ key[i % 4]!;
  return out;
}

/** `bytes` placed at `shift` within a larger buffer, so that views start at any alignment. */
function shifted(bytes: Uint8Array, shift: number): Uint8Array {
  const backing = new Uint8Array(bytes.length + shift + 8).fill(0xee);
  backing.set(bytes, shift);
  return backing.subarray(shift, shift + bytes.length);
}

describe('ws masking in the gateway bundle', () => {
  it('masks into another buffer at any offset and alignment as the byte loop does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat(7),
        fc.nat(7),
        fc.nat(14),
        (data, key, srcShift, outShift, offset) => {
          const source = shifted(data, srcShift);
          const output = shifted(new Uint8Array(offset + data.length + 3), outShift);
          mask(source, key, output, offset, data.length);
          assert.deepEqual(output.subarray(offset, offset + data.length), reference(data, key, data.length));
          // Nothing before the offset or after the masked bytes is written.
          assert.ok(output.subarray(0, offset).every((b) => b === 0));
          assert.ok(output.subarray(offset + data.length).every((b) => b === 0));
          assert.deepEqual(source, data, 'the source is left alone');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('masks in place, and unmask undoes it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat(7),
        (data, key, shift) => {
          const buffer = shifted(data, shift);
          mask(buffer, key, buffer, 0, buffer.length);
          assert.deepEqual(buffer, reference(data, key, data.length));
          unmask(buffer, key);
          assert.deepEqual(buffer, data);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('masks a 3 MB frame, the size of a 5,000-event batch', () => {
    const data = Uint8Array.from({ length: 3 * 1024 * 1024 + 3 }, (_, i) => (i * 31) & 255);
    const key = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
    const copy = Uint8Array.from(data);
    mask(copy, key, copy, 0, copy.length);
    assert.deepEqual(copy, reference(data, key, data.length));
  });
});
