/**
 * Property tests for the pcap/pcapng capture reader and the packet decoder: random bytes after
 * each kind of file header, a valid capture cut anywhere, random byte flips in a pcapng, and
 * random frames of every link type (with TCP reassembly of them) give packets or typed errors,
 * never an exception. Seeds are random; a failure prints its seed and counterexample for replay.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodePacket,
  readCapture,
  reassembleTcp,
  type TcpSegmentInput,
} from '../../protocols/pcap/index.ts';
import { concat, pcapFile, pcapngSection } from '../protocols/pcap/builders.ts';

describe('capture reader and packet decoder never throw', () => {
  const headers = [
    new Uint8Array(0),
    pcapFile([], { linkType: 1 }),
    pcapFile([], { linkType: 101, little: false, nanos: true }),
    pcapngSection([{ linkType: 1 }], []),
    pcapngSection([{ linkType: 1, tsresol: 0xff }], [], { little: false }),
  ];

  test('random bytes after each kind of file header', () => {
    fc.assert(
      fc.property(fc.constantFrom(...headers), fc.uint8Array({ maxLength: 400 }), (header, tail) => {
        const r = readCapture(concat(header, tail));
        for (const p of r.packets) assert.ok(Number.isFinite(p.ts.getTime()));
        for (const p of r.packets) decodePacket(p.linkType, p.data);
      }),
      { numRuns: 1000 },
    );
  });

  const packets = fc.array(fc.uint8Array({ minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 6 });

  test('a valid capture cut anywhere gives a prefix of its packets and at most one error', () => {
    fc.assert(
      fc.property(packets, fc.boolean(), fc.nat(), (datas, ng, cutAt) => {
        const file = ng
          ? pcapngSection(
              [{ linkType: 1 }],
              datas.map((data, i) => ({ kind: 'epb' as const, iface: 0, units: BigInt(i), data })),
            )
          : pcapFile(
              datas.map((data, i) => ({ sec: i, frac: 0, data })),
              { linkType: 1 },
            );
        const r = readCapture(file.subarray(0, cutAt % (file.length + 1)));
        assert.ok(r.errors.length <= 1);
        assert.ok(r.packets.length <= datas.length);
        r.packets.forEach((p, i) => {
          assert.deepEqual([...p.data], [...datas[i]!]);
        });
      }),
      { numRuns: 500 },
    );
  });

  test('random byte flips in a valid pcapng', () => {
    fc.assert(
      fc.property(
        packets,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        (datas, flips) => {
          const file = pcapngSection(
            [{ linkType: 1 }, { linkType: 228, tsresol: 9 }],
            datas.map((data, i) => ({ kind: 'epb' as const, iface: i % 2, units: BigInt(i), data })),
          );
          for (const [at, value] of flips) file[at % file.length] = value;
          readCapture(file);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('decodePacket on random frames of every link type, and reassembly of the TCP among them', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom(0, 1, 101, 113, 228, 229, 276, 999), fc.uint8Array({ maxLength: 120 })),
          { maxLength: 20 },
        ),
        (frames) => {
          const segments: TcpSegmentInput[] = [];
          for (const [linkType, data] of frames) {
            const r = decodePacket(linkType, data);
            if (r.ok && r.packet.proto === 'tcp') segments.push(r.packet);
          }
          const total = segments.reduce((n, s) => n + s.payload.length, 0);
          const streams = reassembleTcp(segments);
          assert.ok(streams.reduce((n, s) => n + s.data.length, 0) <= total);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
