/**
 * Property tests for the BACnet codec: any bytes (as a BACnet/IP datagram, an LLC payload, an
 * APDU or service parameters) give a result or a typed error, never an exception; every message
 * and every error maps to a valid Event; mutated valid frames (bytes flipped, cut, inserted) do
 * the same; a session fed garbage still decodes the next good datagram exactly as a fresh one
 * does, and keeps its tables within their caps; work is bounded (a 64 KiB datagram of opening
 * tags or extended lengths decodes in milliseconds). The valid frames are written here from
 * ANSI/ASHRAE 135-2020 (clause and annex in each comment). Seeds are random; a failure prints
 * its seed and counterexample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  bacnetErrorToEvent,
  bacnetToEvent,
  createBacnetSession,
  decodeApdu,
  decodeBacnetIp,
  decodeBacnetLlc,
  decodeParams,
  MAX_OPEN_TRANSACTIONS,
  MAX_REASSEMBLIES,
} from '../../protocols/bacnet/index.ts';
import { parseEvent } from '../../protocols/event/schema.ts';

const CODES = new Set([
  'truncated',
  'not_bvlc',
  'bvlc_length_mismatch',
  'unsupported_npdu_version',
  'invalid_address',
  'invalid_tag',
  'invalid_apdu',
]);
const CTX = { received: new Date('2026-11-21T10:00:00Z'), src: { ip: '10.0.0.1', port: 47808 } };
const asEvent = (e: object) => ({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });
const h = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
/** A BACnet/IP datagram with its BVLC length set to its size (Annex J.2). */
const bip = (s: string) => {
  const b = h(s);
  b[2] = b.length >> 8;
  b[3] = b.length & 0xff;
  return b;
};

/** Valid BACnet/IP datagrams, one per shape the decoder knows. */
const VALID = [
  // Annex J.2.11 Original-Unicast-NPDU; readProperty(analog-input 1, present-value), clause 15.5.
  bip('810a0011 0104 0005 01 0c 0c00000001 1955'),
  // readProperty-ACK with a Real value, clause 15.5.1.3.
  bip('810a0016 0100 30 01 0c 0c00000001 1955 3e 4442c80000 3f'),
  // who-Is with limits (clause 16.10.1), Original-Broadcast-NPDU (J.2.12).
  bip('810b000c 0120ffff00ff 1008 096c 196c'),
  // i-Am device 108, max APDU 480, segmented-both, vendor 42 (clause 16.10.3).
  bip('810b0014 0120ffff00ff 1000 c40200006c 2201e0 9100 212a'),
  // reinitializeDevice coldstart with a password (clause 16.4).
  bip('810a0014 0104 0005 07 14 0900 1d0500 61626364'),
  // deviceCommunicationControl disable for 5 minutes (clause 16.1).
  bip('810a000f 0104 0005 08 11 0905 1901'),
  // writeProperty binary-output 3 out-of-service := TRUE, priority 8 (clause 15.9).
  bip('810a0016 0104 0005 09 0f 0c01000003 1951 3e11 3f 4908'),
  // Error password-failure (clause 21 BACnet-Error), Reject, Abort.
  bip('810a000d 0100 50 07 14 9105 911a'),
  bip('810a0009 0100 60 07 09'),
  bip('810a0009 0100 71 07 00'),
  // Segmented ComplexACK first segment (clause 20.1.5), and a Segment-ACK (20.1.6).
  bip('810a0012 0100 3c 05 00 04 0c 0c02000008 194c'),
  bip('810a000a 0100 40 05 00 04'),
  // Register-Foreign-Device, TTL 60 s (Annex J.2.6); Forwarded-NPDU (J.2.9) with who-Is.
  bip('81050006 003c'),
  bip('8104000e c0a80001bac0 0100 1008'),
  // I-Am-Router-To-Network 2, 3 (clause 6.4.2) with DNET/SNET routing.
  bip('810b000b 0180 01 0002 0003'),
];

/** Valid frames with random damage: bytes flipped, cut short, bytes inserted. */
const mutated = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.option(fc.nat(), { nil: undefined }),
    fc.uint8Array({ maxLength: 6 }),
  )
  .map(([base, flips, cut, insert]) => {
    const b = Uint8Array.from(base);
    for (const [at, v] of flips) b[at % b.length] = v;
    const cutAt = cut === undefined ? b.length : cut % (b.length + 1);
    const at = Math.min(cutAt, 4 + (insert.length % 8));
    return Uint8Array.from([...b.subarray(0, at), ...insert, ...b.subarray(at, cutAt)]);
  });

const datagram = fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated, fc.constantFrom(...VALID));

function checkAll(bytes: Uint8Array) {
  const r = decodeBacnetIp(bytes);
  if (!r.ok) {
    assert.ok(CODES.has(r.error.code), r.error.code);
    const e = parseEvent(asEvent(bacnetErrorToEvent(r.error, bytes, CTX)));
    assert.ok(e.ok, e.ok ? '' : e.error);
  }
  const l = decodeBacnetLlc(bytes);
  if (!l.ok) assert.ok(CODES.has(l.error.code), l.error.code);
  const a = decodeApdu(bytes);
  if (!a.ok) assert.ok(CODES.has(a.error.code), a.error.code);
  for (const type of [0, 1, 3, 5]) decodeParams(type, bytes[0] ?? 0, bytes.subarray(1));
}

describe('BACnet codec properties', () => {
  test('the valid frames decode without an anomaly, to what they say', () => {
    const session = createBacnetSession<number>();
    const said = VALID.map((b) => {
      const r = session.decodeDatagram(b, '10.0.0.2:47808', '10.0.0.1:47808', 0);
      return r.ok ? (r.message ? bacnetToEvent(r.message, CTX).message : 'pending') : r.error.code;
    });
    assert.deepEqual(said, [
      'read_property request analog_input:1 present_value',
      'read_property response analog_input:1 present_value = 100',
      'who_is request',
      'i_am request device:108',
      'reinitialize_device request coldstart',
      'device_communication_control request disable',
      'write_property request binary_output:3 out_of_service = true',
      'error response services/password_failure',
      'reject response unrecognized_service',
      'abort response other',
      'pending',
      'segment_ack request',
      'register_foreign_device request',
      'who_is request',
      'i_am_router_to_network request',
    ]);
    for (const b of VALID) {
      const r = decodeBacnetIp(b);
      assert.ok(r.ok, r.ok ? '' : `${Buffer.from(b).toString('hex')}: ${r.error.message}`);
      assert.equal(r.value.anomalies, undefined, Buffer.from(b).toString('hex'));
      assert.deepEqual(r.value.apdu?.anomalies ?? [], [], Buffer.from(b).toString('hex'));
    }
  });

  test('any bytes, random or mutated: a result or a typed error, never a throw', () => {
    fc.assert(
      fc.property(datagram, (bytes) => checkAll(bytes)),
      { numRuns: 3000 },
    );
  });

  test('every decoded message and every error maps to a valid Event', () => {
    fc.assert(
      fc.property(fc.array(datagram, { minLength: 1, maxLength: 20 }), (list) => {
        const session = createBacnetSession<number>();
        list.forEach((bytes, i) => {
          const r = session.decodeDatagram(bytes, `10.0.0.${i % 3}:47808`, `10.0.0.${(i + 1) % 3}:47808`, i);
          const pending = r.ok
            ? r.message
              ? bacnetToEvent(r.message, CTX)
              : undefined
            : bacnetErrorToEvent(r.error, bytes, CTX);
          if (!pending) return;
          const e = parseEvent(asEvent(pending));
          assert.ok(e.ok, e.ok ? '' : `${e.error} ${JSON.stringify(pending)}`);
          assert.match(pending.action, /^bacnet\.[a-z_]+$/);
        });
      }),
      { numRuns: 500 },
    );
  });

  test('a good datagram after garbage decodes as it does alone', () => {
    fc.assert(
      fc.property(fc.array(datagram, { maxLength: 30 }), fc.constantFrom(...VALID), (garbage, good) => {
        const session = createBacnetSession<number>();
        for (const g of garbage) session.decodeDatagram(g, '10.0.0.9:47808', '10.0.0.1:47808', 0);
        const after = session.decodeDatagram(good, '10.0.0.2:47808', '10.0.0.1:47808', 1);
        const alone = createBacnetSession<number>().decodeDatagram(
          good,
          '10.0.0.2:47808',
          '10.0.0.1:47808',
          1,
        );
        assert.ok(after.ok && alone.ok);
        assert.deepEqual(after.frame, alone.frame);
      }),
      { numRuns: 500 },
    );
  });

  test('session tables stay within their caps under a flood of requests and segments', () => {
    const session = createBacnetSession<number>();
    for (let i = 0; i < 5000; i++) {
      const id = i & 0xff;
      const src = `10.0.${i >> 8}.1:47808`;
      // A confirmed request and a first segment with more to follow, from ever new senders.
      session.decodeDatagram(
        bip(`810a0011 0104 0005 ${id.toString(16).padStart(2, '0')} 0c 0c00000001 1955`),
        src,
        '10.9.9.9:47808',
        i,
      );
      session.decodeDatagram(
        bip(`810a0012 0100 3c ${id.toString(16).padStart(2, '0')} 00 04 0c 0c02000008 194c`),
        src,
        '10.9.9.9:47808',
        i,
      );
    }
    const open = session.open();
    assert.ok(open.requests <= MAX_OPEN_TRANSACTIONS, `${open.requests} open requests`);
    assert.ok(open.reassemblies <= MAX_REASSEMBLIES, `${open.reassemblies} reassemblies`);
    assert.equal(open.requests, MAX_OPEN_TRANSACTIONS);
  });

  test('bounded work: 64 KiB of nested opening tags or extended lengths decodes in milliseconds', () => {
    const header = h('810a0000 0104 0005 01 0c');
    for (const fill of [0x0e, 0x3e, 0x05, 0x55, 0xfe, 0x0d]) {
      const b = new Uint8Array(65_535).fill(fill);
      b.set(header);
      b[2] = 0xff;
      b[3] = 0xff;
      const start = process.hrtime.bigint();
      const r = decodeBacnetIp(b);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.ok(r.ok || CODES.has(r.error.code));
      assert.ok(ms < 200, `fill 0x${fill.toString(16)}: ${ms} ms`);
    }
  });
});
