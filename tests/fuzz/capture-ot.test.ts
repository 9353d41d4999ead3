/**
 * Property test for the capture decoder's OT paths (DNP3, S7comm, EtherNet/IP, BACnet, OPC UA;
 * gateway/sources/capture/ot.ts): whatever bytes arrive on their ports, over TCP (both
 * directions, with FIN/RST) and UDP, the decoder never throws, every event it returns is a valid
 * `Event` once numbered, and each names the frame that completed it: that frame or an earlier one
 * of the same connection (bytes held behind a hole in the sequence are decoded when the hole is
 * given up, at a later segment, a FIN/RST or the flush, and keep the frame that carried them).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createCaptureDecoder } from '../../gateway/sources/capture/decoder.ts';
import { type PendingEvent, parseEvent } from '../../protocols/event/schema.ts';
import { LINKTYPE } from '../../protocols/pcap/index.ts';
import { ipv4, TCP, tcp, udp } from '../protocols/pcap/builders.ts';

const T0 = Date.UTC(2024, 0, 1);
const PORTS = [20_000, 102, 44_818, 2222, 47_808, 4840];

const segment = fc.record({
  port: fc.constantFrom(...PORTS),
  udp: fc.boolean(),
  up: fc.boolean(),
  flags: fc.constantFrom(TCP.ACK, TCP.ACK | TCP.PSH, TCP.ACK | TCP.FIN, TCP.RST),
  // Half the time a plausible start (DNP3 0x05 0x64, TPKT 3 0, HEL), so the codecs go deeper.
  prefix: fc.constantFrom([], [0x05, 0x64], [3, 0], [0x48, 0x45, 0x4c, 0x46], [0x65, 0, 4, 0], [0x81, 0x0a]),
  bytes: fc.uint8Array({ maxLength: 300 }),
});

test('any bytes on the OT ports: no exception, every event valid and framed', () => {
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 30 }), (segments) => {
      const decoder = createCaptureDecoder();
      const events: PendingEvent[] = [];
      const seqs = new Map<string, number>();
      segments.forEach((s, i) => {
        const data = Uint8Array.from([...s.prefix, ...s.bytes]);
        const [src, sport, dst, dport] = s.up
          ? ['10.0.0.7', 40_000, '10.0.0.1', s.port]
          : ['10.0.0.1', s.port, '10.0.0.7', 40_000];
        const key = `${src}:${sport}`;
        const seq = seqs.get(key) ?? 1;
        seqs.set(key, seq + data.length);
        const packet = s.udp
          ? ipv4(src, dst, 17, udp(sport, dport, data))
          : ipv4(src, dst, 6, tcp(sport, dport, seq, s.flags, data));
        const out = decoder.packet(LINKTYPE.RAW, packet, { frame: i + 1, ts: new Date(T0 + i) });
        for (const e of out) assertFrame(e, segments, i + 1);
        events.push(...out);
      });
      for (const e of decoder.flush()) {
        assertFrame(e, segments, segments.length);
        events.push(e);
      }
      events.forEach((e, i) => {
        const r = parseEvent({ v: 1, id: `g:${i + 1}`, gateway: 'g', seq: i + 1, ...e });
        assert.ok(r.ok, JSON.stringify(e));
      });
    }),
    {
      numRuns: 300,
      // Found by CI: the second segment on 4840 follows a hole (the connection to 20000 shares
      // the client's port and took a byte of its sequence), so its bytes wait for the RST.
      examples: [
        [
          [
            { port: 4840, udp: false, up: true, flags: TCP.ACK, prefix: [], bytes: Uint8Array.of(0) },
            { port: 20_000, udp: false, up: true, flags: TCP.ACK, prefix: [], bytes: Uint8Array.of(0) },
            { port: 4840, udp: false, up: true, flags: TCP.ACK, prefix: [], bytes: new Uint8Array(8) },
            { port: 4840, udp: false, up: false, flags: TCP.RST, prefix: [], bytes: new Uint8Array(0) },
          ],
        ],
      ],
    },
  );
});

/** The event names a frame seen so far (at most `last`) that went to or from one of its ports. */
function assertFrame(e: PendingEvent, segments: { port: number }[], last: number): void {
  const frame = e.fields.frame;
  assert.ok(typeof frame === 'number' && Number.isInteger(frame), JSON.stringify(e));
  assert.ok(frame >= 1 && frame <= last, `frame ${frame} after ${last}: ${JSON.stringify(e)}`);
  const ports = [e.src?.port, e.dst?.port];
  assert.ok(
    ports.includes(segments[frame - 1]!.port),
    `frame ${frame} is another connection's: ${JSON.stringify(e)}`,
  );
}
