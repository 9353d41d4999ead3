/**
 * Property tests for the OPC UA binary codec: any bytes, in any chunking, give messages or typed
 * errors, never an exception, and every result maps to a valid Event; mutated valid exchanges
 * likewise; the deframer returns exactly the chunks sent however the stream is cut; a good chunk
 * after garbage is still decoded; lengths beyond the message and nesting beyond the cap are typed
 * errors, not allocations or stack overflows. Seeds are random; a failure prints its seed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseEvent } from '../../protocols/event/schema.ts';
import {
  createChunkDeframer,
  createOpcuaSession,
  decodeService,
  type OpcuaDecoded,
  opcuaErrorToEvent,
  opcuaToEvent,
} from '../../protocols/opcua/index.ts';
import {
  ack,
  activateSessionRequest,
  chunk,
  createSessionRequest,
  createSessionResponse,
  Enc,
  hello,
  openRequest,
  writeRequest,
  writeResponse,
} from '../protocols/opcua/frames.ts';

const ERRORS = new Set([
  'invalid_message_type',
  'invalid_chunk_type',
  'invalid_size',
  'chunk_too_large',
  'message_too_large',
  'too_many_chunks',
  'truncated',
  'invalid_length',
  'too_deep',
  'invalid_encoding',
]);
const CTX = {
  received: new Date('2024-06-01T00:00:00Z'),
  client: { ip: '10.0.0.9', port: 50000 },
  server: { ip: '10.0.0.1', port: 4840 },
};
const asEvent = (e: object) => ({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });

function check(results: OpcuaDecoded<undefined>[]): void {
  for (const d of results) {
    const e = d.ok ? opcuaToEvent(d, CTX) : opcuaErrorToEvent(d, CTX);
    if (!d.ok) assert.ok(ERRORS.has(d.error.code), d.error.code);
    const parsed = parseEvent(asEvent(e));
    assert.ok(parsed.ok, JSON.stringify(parsed));
    JSON.stringify(e); // no BigInt or cycles in fields
  }
}

/** A client's side of a session, and the server's, as the codec's tests build them. */
const CLIENT = [
  hello(),
  openRequest(),
  createSessionRequest(2, 2, 'urn:hmi'),
  activateSessionRequest(3, 3, 9, 'operator'),
  writeRequest(4, 4, 'pump.setpoint', 42.5, 9),
];
const SERVER = [ack(), createSessionResponse(2, 2, 9), writeResponse(4, 4)];
const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('OPC UA codec properties', () => {
  test('any bytes, either direction, any chunking: messages or typed errors; events always valid', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        (bytes, at, isRequest) => {
          const s = createOpcuaSession();
          for (const part of cut(bytes, at))
            check(s.push(isRequest ? 'request' : 'response', part, undefined));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('chunk headers with random bodies (every message type): never a throw', () => {
    const type = fc.constantFrom('HEL', 'ACK', 'ERR', 'RHE', 'OPN', 'MSG', 'CLO');
    fc.assert(
      fc.property(type, fc.constantFrom('F', 'C', 'A'), fc.uint8Array({ maxLength: 300 }), (t, c, body) => {
        const s = createOpcuaSession();
        check(s.push('request', chunk(t, body, c), undefined));
        check(s.push('response', chunk(t, body, c), undefined));
      }),
      { numRuns: 2000 },
    );
  });

  test('service bodies: any bytes after a known encoding id give a service or a typed error', () => {
    const ids = fc.constantFrom(
      446,
      449,
      428,
      431,
      461,
      464,
      467,
      470,
      631,
      634,
      673,
      676,
      712,
      715,
      527,
      533,
      488,
      500,
      397,
    );
    fc.assert(
      fc.property(ids, fc.uint8Array({ maxLength: 400 }), (id, rest) => {
        const bytes = concat([new Enc().nodeNum(id).bytes(), rest]);
        const r = decodeService(bytes);
        if (!r.ok) assert.ok(ERRORS.has(r.error.code), r.error.code);
        else if (r.value.bodyError) assert.ok(ERRORS.has(r.value.bodyError.code));
      }),
      { numRuns: 3000 },
    );
  });

  test('mutated valid exchanges: results or typed errors, valid events', () => {
    const stream = fc.constantFrom(concat(CLIENT), concat(SERVER));
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        stream,
        mutation,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.nat(),
        (orig, flips, at, trim) => {
          const bytes = orig.slice(0, orig.length - (trim % 16));
          for (const [i, v] of flips) bytes[i % bytes.length] = v;
          const s = createOpcuaSession();
          for (const part of cut(bytes, at)) {
            check(s.push('request', part, undefined));
            check(s.push('response', part, undefined));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('the deframer returns exactly the chunks sent, however the stream is cut', () => {
    const all = [...CLIENT, ...SERVER];
    fc.assert(
      fc.property(
        fc.shuffledSubarray(all, { minLength: 1 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (msgs, at) => {
          const d = createChunkDeframer();
          const got: string[] = [];
          for (const part of cut(concat(msgs), at)) {
            const r = d.push(part);
            assert.deepEqual(r.errors, []);
            for (const c of r.chunks) got.push(Buffer.from(c.bytes).toString('hex'));
          }
          assert.deepEqual(
            got,
            msgs.map((m) => Buffer.from(m).toString('hex')),
          );
          assert.equal(d.buffered(), 0);
        },
      ),
    );
  });

  test('a good chunk after garbage is still decoded, and every garbage byte reported', () => {
    // Garbage without capital letters cannot hold a chunk header, so the HEL is the first one.
    const garbage = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => b.map((x) => x & 0x3f));
    fc.assert(
      fc.property(garbage, fc.array(fc.nat(), { maxLength: 4 }), (junk, at) => {
        const s = createOpcuaSession();
        const out = cut(concat([junk, hello('opc.tcp://after-junk:4840')]), at).flatMap((p) =>
          s.push('request', p, undefined),
        );
        const ok = out.filter((d) => d.ok);
        const bad = out.filter((d) => !d.ok);
        assert.equal(ok.length, 1);
        assert.equal(ok[0]!.ok && ok[0]!.message.hello?.endpointUrl, 'opc.tcp://after-junk:4840');
        assert.ok(bad.length >= 1 && bad.length <= at.length + 1);
        assert.equal(
          bad.reduce((n, d) => n + (d.ok ? 0 : d.byteCount), 0),
          junk.length,
        );
      }),
    );
  });

  test('multi-chunk messages reassemble in any cut; an abort drops what was buffered', () => {
    const whole = writeRequest(5, 5, 'a.b', 1);
    const payload = whole.subarray(8 + 16); // after the secure channel, token and sequence headers
    const parts = [payload.subarray(0, 20), payload.subarray(20, 50), payload.subarray(50)];
    // Build the chunks directly: each repeats the headers then carries its slice of the body.
    const build = (p: Uint8Array, seq: number, c: string) =>
      chunk('MSG', concat([new Enc().u32(3).u32(1).u32(seq).u32(5).bytes(), p]), c);
    const stream = concat([build(parts[0]!, 5, 'C'), build(parts[1]!, 6, 'C'), build(parts[2]!, 7, 'F')]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 6 }), (at) => {
        const s = createOpcuaSession();
        const out = cut(stream, at).flatMap((p) => s.push('request', p, undefined));
        assert.equal(out.length, 1);
        const d = out[0]!;
        assert.ok(d.ok);
        assert.equal(d.message.chunks, 3);
        assert.equal(d.message.service?.name, 'WriteRequest');
        assert.deepEqual(d.message.service?.detail.values, [1]);
      }),
    );
    const s = createOpcuaSession();
    const aborted = s.push(
      'request',
      concat([
        build(parts[0]!, 5, 'C'),
        chunk('MSG', new Enc().u32(3).u32(1).u32(6).u32(5).u32(0x80070000).string('x').bytes(), 'A'),
      ]),
      undefined,
    );
    assert.equal(aborted.length, 1);
    assert.ok(aborted[0]!.ok && aborted[0]!.message.chunkType === 'A');
  });

  test('half-built messages: held bytes stay under the cap however many request ids a peer opens', () => {
    const max = 64 * 1024;
    const s = createOpcuaSession({ maxMessageBytes: max });
    const body = new Uint8Array(1000).fill(0x41);
    const intermediate = (rid: number) =>
      chunk('MSG', concat([new Enc().u32(3).u32(1).u32(rid).u32(rid).bytes(), body]), 'C');
    let refused = 0;
    for (let rid = 1; rid <= 2000; rid++) {
      for (const d of s.push('request', intermediate(rid), undefined)) if (!d.ok) refused++;
      assert.ok(s.held() <= max, `${s.held()} bytes held after ${rid} request ids`);
    }
    assert.ok(refused > 0, 'the peer is told (malformed events), not silently dropped');
    // On a secured channel the chunks are counted, never kept.
    const secured = createOpcuaSession({ maxMessageBytes: max });
    const basic = 'http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256';
    secured.push('request', openRequest(basic), undefined);
    for (let i = 0; i < 200; i++) secured.push('request', intermediate(i), undefined);
    assert.equal(secured.held(), 0);
    const end = secured.push('request', chunk('MSG', new Uint8Array(64), 'F'), undefined);
    assert.ok(end[0]!.ok && end[0]!.message.encrypted && end[0]!.message.chunks === 201);
  });

  test('caps: a huge MessageSize, array length or nesting is a typed error, at once', () => {
    const s = createOpcuaSession({ maxChunkBytes: 65_536 });
    const big = chunk('MSG', new Uint8Array(16));
    new DataView(big.buffer).setUint32(4, 0x7fffffff, true);
    const r = s.push('request', big, undefined);
    assert.equal(!r[0]!.ok && r[0]!.error.code, 'chunk_too_large');
    // A Write of 2^31-1 nodes in a 60-byte message.
    const lying = decodeService(
      concat([new Enc().nodeNum(673).bytes(), requestHeaderBytes(), new Enc().i32(0x7fffffff).bytes()]),
    );
    assert.ok(lying.ok && lying.value.bodyError?.code === 'invalid_length');
    // A Variant holding a Variant holding ... 10,000 deep.
    const deep = new Enc()
      .nodeNum(673)
      .raw(requestHeaderBytes())
      .i32(1)
      .nodeStr(1, 'x')
      .u32(13)
      .string(null)
      .u8(1);
    for (let i = 0; i < 10_000; i++) deep.u8(24);
    const nested = decodeService(deep.bytes());
    assert.ok(nested.ok && nested.value.bodyError?.code === 'too_deep');
    // 4 MiB of garbage in one push: bounded work per byte, nothing buffered beyond 7 bytes.
    const d = createChunkDeframer();
    const junk = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 31) & 0x3f);
    const started = process.hrtime.bigint();
    const out = d.push(junk);
    assert.equal(out.errors.length, 1);
    assert.ok(d.buffered() < 8);
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n, 'a linear scan: well under 2 s for 4 MiB');
  });
});

function requestHeaderBytes(): Uint8Array {
  return new Enc().nodeNum(0).dateTime(null).u32(1).u32(0).string(null).u32(0).nodeNum(0).u8(0).bytes();
}
