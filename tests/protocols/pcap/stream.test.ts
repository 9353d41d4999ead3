/**
 * The chunked pcapng reader (what the live capture source reads dumpcap's pipe with): however a
 * stream is cut into chunks, it yields exactly the packets the whole-file reader yields, for a
 * real capture (nDPI's mqtt.pcap, a pcapng) and generated ones in both byte orders; damage gives
 * one typed error at the right stream offset and nothing after it; a stream that stops inside a
 * block reports it at end().
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type CaptureItem, createPcapngStreamReader, iterateCapture } from '../../../protocols/pcap/index.ts';
import { sharedData } from '../../support/env.ts';
import { pcapngSection } from './builders.ts';

function summary(items: CaptureItem[]) {
  return items.map((i) =>
    i.type === 'packet'
      ? `${i.packet.tsNanos}/${i.packet.linkType}/${i.packet.interfaceId}/${Buffer.from(i.packet.data).toString('hex')}`
      : `error ${i.error.code} @${i.error.offset}`,
  );
}

/** Feeds `bytes` cut at the given (sorted, deduplicated) positions. */
function streamed(bytes: Uint8Array, cuts: number[]): CaptureItem[] {
  const reader = createPcapngStreamReader();
  const out: CaptureItem[] = [];
  let prev = 0;
  for (const at of [...new Set(cuts)].sort((a, b) => a - b)) {
    out.push(...reader.push(bytes.subarray(prev, at)));
    prev = at;
  }
  out.push(...reader.push(bytes.subarray(prev)));
  out.push(...reader.end());
  return out;
}

const generated = (little: boolean) =>
  pcapngSection(
    [{ linkType: 1 }, { linkType: 101, tsresol: 9 }],
    [
      { kind: 'epb', iface: 0, units: 1_700_000_000_000_001n, data: Uint8Array.of(1, 2, 3) },
      { kind: 'epb', iface: 1, units: 1_700_000_000_000_000_007n, data: Uint8Array.of(4, 5, 6, 7, 8) },
      { kind: 'spb', data: Uint8Array.of(9) },
    ],
    { little, extraBlock: true },
  );

describe('pcapng stream reader', () => {
  test('byte by byte and in one piece, both byte orders: the same packets as the file reader', () => {
    for (const little of [true, false]) {
      const file = generated(little);
      const whole = summary([...iterateCapture(file)]);
      assert.equal(whole.length, 3);
      assert.deepEqual(summary(streamed(file, [])), whole);
      assert.deepEqual(
        summary(
          streamed(
            file,
            Array.from({ length: file.length }, (_, i) => i),
          ),
        ),
        whole,
      );
    }
  });

  test('a real pcapng (nDPI mqtt.pcap) cut at random places', (t) => {
    const file = sharedData(t, 'ndpi', 'mqtt.pcap');
    if (!file) return;
    const bytes = new Uint8Array(readFileSync(file));
    const whole = summary([...iterateCapture(bytes)]);
    assert.equal(whole.filter((s) => !s.startsWith('error')).length, 9);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 40 }), (cuts) => {
        assert.deepEqual(summary(streamed(bytes, cuts)), whole);
      }),
      { numRuns: 100 },
    );
  });

  test('any bytes: never throws, errors are typed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600)), (bytes, cuts) => {
        const items = streamed(
          bytes,
          cuts.filter((c) => c <= bytes.length),
        );
        for (const i of items) if (i.type === 'error') assert.equal(typeof i.error.code, 'string');
      }),
    );
  });

  test('damage: one error at its stream offset, then nothing', () => {
    const file = generated(true);
    const damaged = Uint8Array.from(file);
    const secondBlock = new DataView(file.buffer).getUint32(4, true);
    damaged[secondBlock + 4] = 0x0d; // the IDB's length is no longer a multiple of 4
    const reader = createPcapngStreamReader();
    const items = [...reader.push(damaged.subarray(0, 40)), ...reader.push(damaged.subarray(40))];
    assert.deepEqual(summary(items), [`error invalid_block @${secondBlock}`]);
    assert.deepEqual(reader.push(file), [], 'the stream is not read past damage');
  });

  test('a stream that stops inside a block', () => {
    const file = generated(true);
    const reader = createPcapngStreamReader();
    const items = reader.push(file.subarray(0, file.length - 3));
    assert.equal(items.filter((i) => i.type === 'packet').length, 2);
    assert.equal(reader.buffered() > 0, true);
    assert.deepEqual(summary(reader.end()), [`error truncated @${reader.offset()}`]);
  });
});
