/**
 * Property tests for the Modbus codec and the incremental TCP reassembly: any bytes give a PDU or
 * a typed error, never an exception, and every decoded PDU maps to a valid Event; requests
 * survive encode → decode with their values; the MBAP deframer returns exactly the ADUs sent
 * however the stream is chunked; the TCP tracker rebuilds a stream from shuffled, duplicated
 * segments. Seeds are random; a failure prints its seed and counterexample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseEvent } from '../../protocols/event/schema.ts';
import {
  createMbapDeframer,
  createModbusSession,
  decodePdu,
  encodeMbap,
  encodeRequest,
  type ModbusRequestSpec,
  modbusErrorToEvent,
  modbusToEvent,
  parseRtu,
} from '../../protocols/modbus/index.ts';
import { createTcpStreamTracker, type DecodedPacket, TCP_FLAGS } from '../../protocols/pcap/index.ts';

const ERRORS = new Set([
  'truncated',
  'empty_pdu',
  'pdu_too_large',
  'byte_count_mismatch',
  'invalid_protocol_id',
  'invalid_length',
  'invalid_crc',
]);
const CTX = {
  received: new Date('2024-06-01T00:00:00Z'),
  transport: 'tcp' as const,
  server: { ip: '10.0.0.1', port: 502 },
};
const HEADER = { transactionId: 1, protocolId: 0, length: 2, unitId: 1 };
const asEvent = (e: object) => ({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });

/** PDUs that start with a public function code more often than chance would. */
const pduBytes = fc.oneof(
  fc.uint8Array({ maxLength: 260 }),
  fc
    .tuple(
      fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43, 0x83, 90),
      fc.uint8Array({ maxLength: 252 }),
    )
    .map(([f, rest]) => Uint8Array.from([f, ...rest])),
);

describe('Modbus codec properties', () => {
  test('any PDU bytes, either direction: a PDU or a typed error; events always valid', () => {
    fc.assert(
      fc.property(pduBytes, fc.boolean(), (bytes, isRequest) => {
        const r = decodePdu(bytes, isRequest ? 'request' : 'response');
        if (!r.ok) {
          assert.ok(ERRORS.has(r.error.code), r.error.code);
          const e = modbusErrorToEvent(r.error, bytes, 'request', CTX, HEADER);
          assert.ok(parseEvent(asEvent(e)).ok);
          return;
        }
        const e = modbusToEvent(HEADER, r.pdu, CTX);
        const parsed = parseEvent(asEvent(e));
        assert.ok(parsed.ok, JSON.stringify(parsed));
        assert.doesNotThrow(() => JSON.stringify(e));
      }),
      { numRuns: 3000 },
    );
  });

  const u16 = fc.integer({ min: 0, max: 0xffff });
  const spec: fc.Arbitrary<ModbusRequestSpec> = fc.oneof(
    fc.record({
      function: fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<1 | 2 | 3 | 4>,
      address: u16,
      quantity: fc.integer({ min: 1, max: 125 }),
    }),
    fc.record({ function: fc.constant(5 as const), address: u16, value: fc.boolean() }),
    fc.record({ function: fc.constant(6 as const), address: u16, value: u16 }),
    fc.record({
      function: fc.constant(15 as const),
      address: u16,
      values: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 1968 }),
    }),
    fc.record({
      function: fc.constant(16 as const),
      address: u16,
      values: fc.array(u16, { minLength: 1, maxLength: 123 }),
    }),
    fc.record({ function: fc.constant(22 as const), address: u16, andMask: u16, orMask: u16 }),
    fc.record({
      function: fc.constant(23 as const),
      readAddress: u16,
      readQuantity: fc.integer({ min: 1, max: 125 }),
      writeAddress: u16,
      values: fc.array(u16, { minLength: 1, maxLength: 121 }),
    }),
  );

  test('encode → decode gives the request back, without anomalies', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const r = decodePdu(encodeRequest(s), 'request');
        assert.ok(r.ok);
        const p = r.pdu;
        assert.equal(p.function, s.function);
        assert.deepEqual(p.anomalies, []);
        if ('address' in s) assert.equal(p.address, s.address);
        if ('quantity' in s) assert.equal(p.quantity, s.quantity);
        if ('values' in s) assert.deepEqual(p.values, s.values);
        if (s.function === 5 && 'value' in s) assert.deepEqual(p.values, [s.value ? 1 : 0]);
        if (s.function === 6 && 'value' in s) assert.deepEqual(p.values, [s.value]);
        if (s.function === 22 && 'andMask' in s)
          assert.deepEqual([p.andMask, p.orMask], [s.andMask, s.orMask]);
      }),
    );
  });

  test('the MBAP deframer returns exactly the ADUs sent, however the stream is chunked', () => {
    const adu = fc.record({
      tid: u16,
      unit: fc.integer({ min: 0, max: 255 }),
      pdu: fc.uint8Array({ minLength: 1, maxLength: 253 }),
    });
    fc.assert(
      fc.property(
        fc.array(adu, { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1 }),
        (adus, cuts) => {
          const stream = Buffer.concat(
            adus.map((a) => encodeMbap({ transactionId: a.tid, unitId: a.unit }, a.pdu)),
          );
          const d = createMbapDeframer();
          const got: Array<{ tid: number; unit: number; pdu: number[] }> = [];
          let off = 0;
          let i = 0;
          while (off < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            const r = d.push(stream.subarray(off, off + n));
            assert.equal(r.errors.length, 0);
            for (const x of r.adus)
              got.push({ tid: x.header.transactionId, unit: x.header.unitId, pdu: [...x.pdu] });
            off += n;
          }
          assert.deepEqual(
            got,
            adus.map((a) => ({ tid: a.tid, unit: a.unit, pdu: [...a.pdu] })),
          );
          assert.equal(d.buffered(), 0);
        },
      ),
    );
  });

  test('sessions and the RTU parser never throw on random input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.boolean(), u16)),
        fc.uint8Array({ maxLength: 300 }),
        (adus, rtu) => {
          const s = createModbusSession<number>();
          for (const [pdu, req, tid] of adus) {
            const r = s.decode(
              { header: { ...HEADER, transactionId: tid & 7 }, pdu },
              req ? 'request' : 'response',
              tid,
            );
            assert.ok(r.result.ok || ERRORS.has(r.result.error.code));
          }
          const p = parseRtu(rtu);
          assert.ok(p.ok || ERRORS.has(p.error.code));
        },
      ),
    );
  });
});

describe('incremental TCP reassembly', () => {
  test('shuffled and duplicated segments give the stream back in order', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (data, sizes, isn, swaps) => {
          const segs: Array<{ seq: number; payload: Uint8Array }> = [];
          let off = 0;
          for (let i = 0; off < data.length; i++) {
            const n = sizes[i % sizes.length]!;
            segs.push({ seq: (isn + 1 + off) >>> 0, payload: data.subarray(off, off + n) });
            off += n;
          }
          const order = [...segs, ...segs.filter((_, i) => i % 3 === 0)];
          for (const s of swaps) {
            const a = s % order.length;
            const b = (s >> 3) % order.length;
            [order[a], order[b]] = [order[b]!, order[a]!];
          }
          const t = createTcpStreamTracker<number>();
          const base: Omit<DecodedPacket, 'payload' | 'tcp'> = {
            ipVersion: 4,
            src: '1.1.1.1',
            dst: '2.2.2.2',
            proto: 'tcp',
            srcPort: 1,
            dstPort: 2,
          };
          const out: number[] = [];
          t.push(
            {
              ...base,
              payload: new Uint8Array(0),
              tcp: { seq: isn, ack: 0, flags: TCP_FLAGS.SYN, window: 0 },
            },
            0,
          );
          for (const s of order)
            for (const c of t.push(
              { ...base, payload: s.payload, tcp: { seq: s.seq, ack: 0, flags: TCP_FLAGS.ACK, window: 0 } },
              0,
            )) {
              assert.equal(c.gap, false);
              out.push(...c.data);
            }
          for (const c of t.flush()) out.push(...c.data);
          assert.deepEqual(out, [...data]);
        },
      ),
    );
  });
});
