/**
 * Property test for the capture decoder's OT paths (DNP3, S7comm, EtherNet/IP, BACnet, OPC UA;
 * gateway/sources/capture/ot.ts): whatever bytes arrive on their ports, over TCP (both
 * directions, with FIN/RST) and UDP, the decoder never throws, every event it returns is a valid
 * `Event` once numbered, and each names the frame that completed it.
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
        for (const e of out) assert.equal(e.fields.frame, i + 1, JSON.stringify(e));
        events.push(...out);
      });
      events.push(...decoder.flush());
      events.forEach((e, i) => {
        const r = parseEvent({ v: 1, id: `g:${i + 1}`, gateway: 'g', seq: i + 1, ...e });
        assert.ok(r.ok, JSON.stringify(e));
        assert.equal(typeof e.fields.frame, 'number');
      });
    }),
    { numRuns: 300 },
  );
});
