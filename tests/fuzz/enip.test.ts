/**
 * Property tests for the EtherNet/IP + CIP codec: any bytes, as an encapsulation message, an I/O
 * datagram or a bare CIP message, give a result or a typed error, never an exception, and every
 * result maps to valid Events; mutated valid frames likewise; the stream deframer returns exactly
 * the messages sent however the stream is chunked, and a good message after garbage is still
 * decoded once the garbage is rejected or a gap resets the stream; work stays linear in the input
 * (nested Multiple Service Packets included). Seeds are random; a failure prints its seed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  createEncapDeframer,
  createEnipSession,
  decodeCip,
  decodeEncap,
  decodeIo,
  type EnipDirection,
  enipErrorToEvent,
  type EnipResult,
  type EnipPdu,
  enipToEvents,
  MAX_ENCAP_DATA_BYTES,
} from '../../protocols/enip/index.ts';
import { parseEvent } from '../../protocols/event/schema.ts';
import {
  cipRequest,
  cipResponse,
  encap,
  ioDatagram,
  logicalPath,
  mspData,
  sendRRData,
  sendUnitData,
} from '../protocols/enip/frames.ts';

const ERRORS = new Set([
  'truncated',
  'invalid_length',
  'too_many_items',
  'invalid_item',
  'invalid_path',
  'invalid_cip',
  'unknown_command',
]);
const CTX = {
  received: new Date('2024-06-01T00:00:00Z'),
  client: { ip: '10.0.0.9', port: 50000 },
  server: { ip: '10.0.0.1', port: 44818 },
};
const asEvent = (e: object) => ({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });

function checkResult(r: EnipResult<EnipPdu>, bytes: Uint8Array, direction: EnipDirection): void {
  if (!r.ok) {
    assert.ok(ERRORS.has(r.error.code), r.error.code);
    const e = enipErrorToEvent(r.error, bytes, direction, CTX);
    assert.ok(parseEvent(asEvent(e)).ok);
    return;
  }
  for (const e of enipToEvents(r.value, direction, CTX, r.value)) {
    const parsed = parseEvent(asEvent(e));
    assert.ok(parsed.ok, JSON.stringify(parsed));
  }
}

const request = fc
  .tuple(
    fc.constantFrom(0x01, 0x03, 0x04, 0x05, 0x0a, 0x0e, 0x10, 0x4c, 0x4d, 0x52, 0x54),
    fc.integer({ min: 0, max: 0x300 }),
    fc.integer({ min: 0, max: 0x300 }),
    fc.uint8Array({ maxLength: 40 }),
  )
  .map(([s, c, i, d]) => cipRequest(s, logicalPath(c, i, 1), [...d]));

/** Valid frames of every shape the codec knows. */
const validFrame = fc.oneof(
  request.map((r) => sendRRData(r)),
  fc.tuple(request, fc.nat(0xffff)).map(([r, seq]) => sendUnitData(r, 0x1234, seq)),
  fc
    .array(request, { minLength: 1, maxLength: 12 })
    .map((rs) => sendUnitData(cipRequest(0x0a, logicalPath(2, 1), mspData(rs)), 7, 1)),
  fc.uint8Array({ maxLength: 20 }).map((d) => sendRRData(cipResponse(0x0e, 0, [...d]))),
  fc.constant(encap(0x63, [])),
  fc.constant(encap(0x65, [1, 0, 0, 0])),
);

/** A frame with bytes flipped, inserted, removed or cut. */
const mutated = fc
  .tuple(
    validFrame,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), {
      maxLength: 6,
    }),
  )
  .map(([frame, edits]) => {
    let b = [...frame];
    for (const [pos, value, op] of edits) {
      const at = b.length === 0 ? 0 : pos % b.length;
      if (op === 0) b[at] = value;
      else if (op === 1) b.splice(at, 0, value);
      else if (op === 2) b.splice(at, 1);
      else b = b.slice(0, at);
    }
    return Uint8Array.from(b);
  });

describe('EtherNet/IP codec properties', () => {
  test('any bytes as an encapsulation message: a result or a typed error; events valid', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, req) => {
        checkResult(decodeEncap(bytes), bytes, req ? 'request' : 'response');
      }),
      { numRuns: 3000 },
    );
  });

  test('mutated valid frames: a result or a typed error; events valid', () => {
    fc.assert(
      fc.property(mutated, fc.boolean(), (bytes, req) => {
        checkResult(decodeEncap(bytes), bytes, req ? 'request' : 'response');
      }),
      { numRuns: 3000 },
    );
  });

  test('valid frames decode, and every CIP message in them maps to an event', () => {
    fc.assert(
      fc.property(validFrame, (bytes) => {
        const r = decodeEncap(bytes);
        assert.ok(r.ok, JSON.stringify(r));
        checkResult(r, bytes, 'request');
      }),
      { numRuns: 500 },
    );
  });

  test('any bytes as an I/O datagram or a bare CIP message: never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        checkResult(decodeIo(bytes), bytes, 'request');
        const cip = decodeCip(bytes);
        if (!cip.ok) assert.ok(ERRORS.has(cip.error.code), cip.error.code);
      }),
      { numRuns: 3000 },
    );
    const io = decodeIo(ioDatagram(0x4b0603, 4166875, [0xa5, 0x87]));
    assert.ok(io.ok);
    assert.deepEqual([io.value.connectionId, io.value.ioSequence], [0x4b0603, 4166875]);
  });

  test('the deframer returns exactly the messages sent, however the stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(validFrame, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const stream = Uint8Array.from(frames.flatMap((f) => [...f]));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const deframer = createEncapDeframer();
          const got: string[] = [];
          let prev = 0;
          for (const p of [...points, stream.length]) {
            const out = deframer.push(stream.slice(prev, p));
            assert.deepEqual(out.errors, []);
            for (const m of out.messages) got.push(Buffer.from(m).toString('hex'));
            prev = p;
          }
          assert.deepEqual(
            got,
            frames.map((f) => Buffer.from(f).toString('hex')),
          );
          assert.equal(deframer.buffered(), 0);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a good message after garbage is decoded once the garbage is rejected or a gap resets the stream', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), validFrame, (garbage, good) => {
        const session = createEnipSession<number>();
        const first = session.push(garbage, 'request', 1);
        for (const e of first.errors) assert.equal(e.code, 'invalid_length');
        // What is left waits for the rest of a message the garbage announced; a gap (what the TCP
        // tracker reports after lost bytes) drops it, and framing restarts on the good message.
        const second = session.push(good, 'request', 2, true);
        assert.equal(second.decoded.length, 1);
        assert.ok(second.decoded[0]!.result.ok);
        assert.deepEqual([...second.decoded[0]!.bytes], [...good]);
      }),
      { numRuns: 1000 },
    );
    // A header announcing more than the spec's 65511 bytes is rejected at once, and the buffer with it.
    const deframer = createEncapDeframer();
    const bad = encap(0x70, []);
    bad[2] = 0xff;
    bad[3] = 0xff;
    const out = deframer.push(bad);
    assert.equal(out.errors.length, 1);
    assert.equal(deframer.buffered(), 0);
    assert.equal(deframer.push(sendRRData(cipRequest(0x0e, logicalPath(1, 1, 7)))).messages.length, 1);
    assert.ok(0xffff > MAX_ENCAP_DATA_BYTES);
  });

  test('work stays linear: a maximal frame of nested Multiple Service Packets decodes quickly', () => {
    // Each level packs as many nested packets as fit; offsets cannot overlap, so the decoder visits
    // each byte at most once per nesting level (MAX_CIP_DEPTH).
    let inner = cipRequest(0x0e, logicalPath(1, 1, 1));
    for (let depth = 0; depth < 6; depth++) {
      const copies = Math.max(1, Math.floor(8000 / (inner.length + 2)));
      inner = cipRequest(
        0x0a,
        logicalPath(2, 1),
        mspData(Array.from({ length: Math.min(copies, 200) }, () => inner)),
      );
      if (inner.length > 60_000) break;
    }
    const frame = sendRRData(inner.slice(0, 60_000));
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) decodeEncap(frame);
    const perFrame = (performance.now() - t0) / 20;
    assert.ok(perFrame < 50, `${perFrame.toFixed(1)} ms for one ${frame.length}-byte frame`);
  });
});
