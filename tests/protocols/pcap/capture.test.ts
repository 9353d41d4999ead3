/**
 * readCapture: classic pcap in both byte orders with micro- and nanosecond timestamps, pcapng in
 * both byte orders with interface timestamp resolutions, Simple Packet Blocks and skipped block
 * types; damaged files give the packets before the damage and a typed error. Also real captures
 * from the shared data (classic pcap from Zeek, pcapng from nDPI).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { detectCaptureFormat, iterateCapture, readCapture } from '../../../protocols/pcap/index.ts';
import { sharedData } from '../../support/env.ts';
import { concat, pcapFile, pcapngSection } from './builders.ts';

const A = Uint8Array.of(1, 2, 3, 4, 5);
const B = Uint8Array.of(9, 8, 7);

describe('classic pcap', () => {
  for (const little of [true, false]) {
    for (const nanos of [false, true]) {
      test(`${little ? 'little' : 'big'}-endian, ${nanos ? 'nanosecond' : 'microsecond'} magic`, () => {
        const frac = nanos ? 123_456_789 : 123_456;
        const file = pcapFile(
          [
            { sec: 1_700_000_000, frac, data: A },
            { sec: 1_700_000_001, frac: 0, data: B, originalLength: 1500 },
          ],
          { linkType: 101, little, nanos },
        );
        const r = readCapture(file);
        assert.equal(r.format, 'pcap');
        assert.deepEqual(r.errors, []);
        assert.equal(r.packets.length, 2);
        const [p, q] = r.packets;
        assert.deepEqual([...p!.data], [...A]);
        assert.equal(p!.linkType, 101);
        assert.equal(p!.interfaceId, 0);
        assert.equal(p!.ts.toISOString(), '2023-11-14T22:13:20.123Z');
        assert.equal(p!.tsNanos, 1_700_000_000_123_456_000n + (nanos ? 789n : 0n));
        assert.equal(q!.originalLength, 1500, 'snapped packets keep their wire length');
        assert.deepEqual([...q!.data], [...B]);
      });
    }
  }

  test('the link type is the low 16 bits (the upper bits carry FCS information)', () => {
    const r = readCapture(pcapFile([{ sec: 0, frac: 0, data: A }], { linkType: 0x1000_0001 }));
    assert.equal(r.packets[0]!.linkType, 1);
  });

  test('a file cut inside a record yields the packets before it and `truncated`', () => {
    const file = pcapFile(
      [
        { sec: 1, frac: 0, data: A },
        { sec: 2, frac: 0, data: B },
      ],
      { linkType: 1 },
    );
    for (let cut = 24 + 16 + A.length + 1; cut < file.length; cut++) {
      const r = readCapture(file.subarray(0, cut));
      assert.equal(r.packets.length, 1, `cut at ${cut}`);
      assert.deepEqual(
        r.errors.map((e) => [e.code, e.offset]),
        [['truncated', 24 + 16 + A.length]],
      );
    }
    assert.equal(readCapture(file.subarray(0, 10)).errors[0]!.code, 'truncated');
  });

  test('an absurd record length is `invalid_block`, not an allocation', () => {
    const file = pcapFile([{ sec: 1, frac: 0, data: A }], { linkType: 1 });
    new DataView(file.buffer).setUint32(24 + 8, 0xfffffff0, true);
    assert.deepEqual(
      readCapture(file).errors.map((e) => e.code),
      ['invalid_block'],
    );
  });
});

describe('pcapng', () => {
  for (const little of [true, false]) {
    test(`${little ? 'little' : 'big'}-endian: EPBs on two interfaces with different resolutions, an SPB, a skipped block`, () => {
      const file = pcapngSection(
        [{ linkType: 1 }, { linkType: 113, tsresol: 9 }],
        [
          { kind: 'epb', iface: 0, units: 1_700_000_000_123_456n, data: A },
          { kind: 'epb', iface: 1, units: 1_700_000_000_123_456_789n, data: B, originalLength: 99 },
          { kind: 'spb', data: A },
        ],
        { little, extraBlock: true },
      );
      assert.equal(detectCaptureFormat(file), 'pcapng');
      const r = readCapture(file);
      assert.deepEqual(r.errors, []);
      assert.equal(r.packets.length, 3);
      const [p, q, s] = r.packets;
      assert.deepEqual([p!.linkType, p!.interfaceId, p!.tsNanos], [1, 0, 1_700_000_000_123_456_000n]);
      assert.deepEqual([...p!.data], [...A], 'padding is not part of the packet');
      assert.deepEqual(
        [q!.linkType, q!.interfaceId, q!.tsNanos, q!.originalLength],
        [113, 1, 1_700_000_000_123_456_789n, 99],
      );
      assert.deepEqual([...s!.data], [...A]);
      assert.equal(s!.linkType, 1, 'an SPB belongs to interface 0');
    });
  }

  test('a binary timestamp resolution (if_tsresol bit 7 set: 2^-n seconds)', () => {
    const file = pcapngSection(
      [{ linkType: 1, tsresol: 0x80 | 10 }],
      [{ kind: 'epb', iface: 0, units: 1024n * 5n + 512n, data: A }],
    );
    assert.equal(readCapture(file).packets[0]!.tsNanos, 5_500_000_000n);
  });

  test('several sections, each with its own byte order and interfaces', () => {
    const file = concat(
      pcapngSection([{ linkType: 1 }], [{ kind: 'epb', iface: 0, units: 1n, data: A }], { little: true }),
      pcapngSection([{ linkType: 101 }], [{ kind: 'epb', iface: 0, units: 2n, data: B }], { little: false }),
    );
    const r = readCapture(file);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.packets.map((p) => p.linkType),
      [1, 101],
    );
  });

  test('a packet naming an undescribed interface is reported and skipped', () => {
    const file = pcapngSection(
      [{ linkType: 1 }],
      [
        { kind: 'epb', iface: 3, units: 0n, data: A },
        { kind: 'epb', iface: 0, units: 0n, data: B },
      ],
    );
    const r = readCapture(file);
    assert.deepEqual(
      r.errors.map((e) => e.code),
      ['unknown_interface'],
    );
    assert.equal(r.packets.length, 1);
  });

  test('a cut file yields the earlier packets and one error; a wrong trailing length stops the read', () => {
    const file = pcapngSection(
      [{ linkType: 1 }],
      [
        { kind: 'epb', iface: 0, units: 0n, data: A },
        { kind: 'epb', iface: 0, units: 0n, data: B },
      ],
    );
    const r = readCapture(file.subarray(0, file.length - 3));
    assert.equal(r.packets.length, 1);
    assert.deepEqual(
      r.errors.map((e) => e.code),
      ['truncated'],
    );
    const bad = file.slice();
    bad[bad.length - 4] = 0x7f;
    assert.deepEqual(
      readCapture(bad).errors.map((e) => e.code),
      ['invalid_block'],
    );
  });
});

test('not a capture: one `unknown_format` error', () => {
  for (const bytes of [
    new Uint8Array(0),
    Uint8Array.of(1, 2, 3),
    new TextEncoder().encode('<13>hello syslog'),
  ]) {
    assert.deepEqual(
      [...iterateCapture(bytes)].map((i) => (i.type === 'error' ? i.error.code : 'packet')),
      ['unknown_format'],
    );
  }
});

describe('real captures', () => {
  test('Zeek tcp-syslog.pcap: classic pcap, raw IPv4 link type, 10 packets', (t) => {
    const file = sharedData(t, 'syslog', 'zeek', 'tcp-syslog.pcap');
    if (!file) return;
    const r = readCapture(readFileSync(file));
    assert.deepEqual([r.format, r.packets.length, r.errors.length], ['pcap', 10, 0]);
    assert.ok(r.packets.every((p) => p.linkType === 228));
  });

  test('nDPI mqtt.pcap: a pcapng file despite its name, 9 Ethernet packets', (t) => {
    const file = sharedData(t, 'ndpi', 'mqtt.pcap');
    if (!file) return;
    const r = readCapture(readFileSync(file));
    assert.deepEqual([r.format, r.packets.length, r.errors.length], ['pcapng', 9, 0]);
    assert.ok(r.packets.every((p) => p.linkType === 1));
    const times = r.packets.map((p) => p.tsNanos);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      'chronological',
    );
    assert.equal(r.packets[0]!.ts.getUTCFullYear(), 2022);
  });
});

describe('timestamps: the plain-number fast paths agree with BigInt arithmetic', () => {
  test('pcapng microseconds and classic pcap, any time: ts is tsNanos in whole milliseconds', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        (units, sec, frac, nanos) => {
          const files = [
            pcapngSection([{ linkType: 1 }], [{ kind: 'epb', iface: 0, units, data: A }]),
            pcapFile([{ sec, frac, data: A }], { linkType: 101, nanos }),
          ];
          for (const file of files) {
            for (const item of iterateCapture(file)) {
              if (item.type !== 'packet') {
                assert.equal(item.error.code, 'invalid_timestamp');
                continue;
              }
              const p = item.packet;
              assert.equal(p.ts.getTime(), Number(p.tsNanos / 1_000_000n));
            }
          }
          const [first] = [...iterateCapture(files[0]!)];
          if (first?.type === 'packet') assert.equal(first.packet.tsNanos, units * 1000n);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
