/**
 * Property tests for the DNP3 codec: any bytes, fed to the application decoder, the stream session
 * (however chunked) or the datagram path, give results or typed errors, never an exception, with
 * bounded held state, and every result maps to a valid Event; a valid fragment cut into transport
 * segments whose sequence starts anywhere (so it wraps 63 → 0) comes back whole however the stream
 * is chunked; a good frame after garbage or after a damaged frame is still decoded (the link layer
 * resynchronises on 0x05 0x64 and its CRCs). Seeds are random; a failure prints its counterexample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseEvent } from '../../protocols/event/schema.ts';
import {
  createDnp3Session,
  createLinkDeframer,
  decodeApdu,
  type Dnp3SessionItem,
  dnp3ItemToEvent,
  dnp3ToEvent,
  encodeFragment,
  MAX_LINK_FRAME_BYTES,
} from '../../protocols/dnp3/index.ts';

const ERRORS = new Set([
  'bad_start',
  'bad_length',
  'header_crc',
  'data_crc',
  'truncated',
  'empty_fragment',
  'fragment_too_large',
  'transport_sequence',
  'transport_orphan',
  'bad_qualifier',
  'bad_range',
  'unknown_object_size',
  'too_many_objects',
]);
const CTX = {
  received: new Date('2024-06-01T00:00:00Z'),
  transport: 'tcp' as const,
  src: { ip: '10.0.0.8', port: 40000 },
  dst: { ip: '10.0.0.3', port: 20000 },
};
const LINK = {
  length: 20,
  dir: true,
  prm: true,
  fcb: false,
  fcv: false,
  function: 4,
  destination: 4,
  source: 3,
};
const asEvent = (e: object) => ({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });

function checkItems(items: Dnp3SessionItem<{ frame: number }>[]) {
  for (const item of items) {
    if (item.type === 'error') assert.ok(ERRORS.has(item.error.code), item.error.code);
    if (item.type === 'apdu' && item.apdu.objectError)
      assert.ok(ERRORS.has(item.apdu.objectError.code), item.apdu.objectError.code);
    const e = dnp3ItemToEvent(item, CTX);
    if (!e) continue;
    const parsed = parseEvent(asEvent(e));
    assert.ok(parsed.ok, JSON.stringify(parsed));
  }
}

/** Application fragments that open with a real function code and real object headers more often than chance. */
const apduBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0, 1, 2, 3, 4, 5, 13, 14, 18, 20, 21, 24, 25, 129, 130),
      fc.array(
        fc.tuple(
          fc.constantFrom(1, 2, 10, 12, 20, 30, 32, 40, 41, 50, 60, 70, 80, 110, 120),
          fc.integer({ min: 0, max: 8 }),
          fc.constantFrom(0x00, 0x01, 0x06, 0x07, 0x08, 0x17, 0x28, 0x5b, 0x39, 0x0a, 0xff),
          fc.uint8Array({ maxLength: 40 }),
        ),
        { maxLength: 6 },
      ),
    )
    .map(([ac, fcode, objs]) => {
      const head = fcode >= 129 ? [ac, fcode, 0, 0] : [ac, fcode];
      return Uint8Array.from([...head, ...objs.flatMap(([g, v, q, rest]) => [g, v, q, ...rest])]);
    }),
);

/** Splits `b` into chunks at the given cut points. */
function chunks(b: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, b.length]) {
    out.push(b.subarray(prev, c));
    prev = c;
  }
  return out;
}

const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('DNP3 codec properties', () => {
  test('any fragment bytes: a fragment or a typed error; events always valid', () => {
    fc.assert(
      fc.property(apduBytes, (bytes) => {
        const r = decodeApdu(bytes);
        if (!r.ok) {
          assert.ok(ERRORS.has(r.error.code), r.error.code);
          return;
        }
        if (r.apdu.objectError) assert.ok(ERRORS.has(r.apdu.objectError.code));
        const e = dnp3ToEvent(LINK, r.apdu, CTX);
        assert.ok(parseEvent(asEvent(e)).ok);
        assert.doesNotThrow(() => JSON.stringify(e));
      }),
      { numRuns: 3000 },
    );
  });

  test('any stream bytes, any chunking, and datagrams: typed results, bounded state', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 400 }),
            apduBytes.map((a) => concat(encodeFragment(a, { source: 3, destination: 4, dir: true }))),
          ),
          {
            maxLength: 6,
          },
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        (parts, cuts) => {
          const stream = concat(parts);
          const session = createDnp3Session<{ frame: number }>();
          let frame = 0;
          const deframer = createLinkDeframer();
          for (const c of chunks(stream, cuts)) {
            checkItems(session.push('client', c, { frame: ++frame }));
            deframer.push(c);
            // Never more than one partial frame is held, whatever the input.
            assert.ok(deframer.pending() < MAX_LINK_FRAME_BYTES, `${deframer.pending()} octets held`);
          }
          checkItems(session.datagram(stream, { frame: ++frame }));
          assert.ok(session.open() <= 64);
        },
      ),
      { numRuns: 1500 },
    );
  });

  test('a fragment over many segments, sequence starting anywhere (wrapping), comes back whole', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1500, maxLength: 3000 }),
        fc.integer({ min: 0, max: 63 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (objects, firstSeq, cuts) => {
          // A WRITE of octet strings g110v(len): the decoder must walk them all.
          const body = [0xc0, 0x02];
          for (let i = 0; i < objects.length; i += 200) {
            const s = objects.subarray(i, i + 200);
            if (s.length === 0) break;
            body.push(110, s.length, 0x00, i & 0xff, i & 0xff, ...s);
          }
          const apdu = Uint8Array.from(body);
          const frames = encodeFragment(apdu, { source: 1, destination: 1024, dir: true, firstSeq });
          const session = createDnp3Session<{ frame: number }>();
          const got = chunks(concat(frames), cuts).flatMap((c, i) => session.push('a', c, { frame: i }));
          const fragments = got.filter((i) => i.type === 'apdu');
          assert.deepEqual(
            got.filter((i) => i.type === 'error'),
            [],
          );
          assert.equal(fragments.length, 1);
          const a = fragments[0]!.type === 'apdu' ? fragments[0]!.apdu : undefined;
          assert.equal(a?.length, apdu.length);
          assert.equal(a?.objects.length, Math.ceil(objects.length / 200));
          assert.equal(a?.objectError, undefined);
          if (fragments[0]!.type === 'apdu') assert.equal(fragments[0]!.segments, frames.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('garbage or a damaged frame before a good frame: the good frame is still decoded', () => {
    const read = Uint8Array.from([0xc3, 0x01, 0x3c, 0x02, 0x06]); // READ class 1
    const good = concat(encodeFragment(read, { source: 3, destination: 4, dir: true }));
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (garbage, flipAt, flip, cuts) => {
          const damaged = Uint8Array.from(good);
          damaged[flipAt]! ^= flip;
          const session = createDnp3Session<{ frame: number }>();
          const stream = concat([garbage, damaged, good]);
          const items = chunks(stream, cuts).flatMap((c, i) => session.push('a', c, { frame: i }));
          checkItems(items);
          const reads = items.filter((i) => i.type === 'apdu' && i.apdu.function === 1);
          assert.ok(reads.length >= 1, 'the good READ after the garbage is decoded');
        },
      ),
      { numRuns: 1500 },
    );
  });

  test('bounded work: 1 MiB of false starts (0x05 0x64 every 7 octets) decodes in under 2 s, as one error per run', () => {
    const big = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24);
    // Plant start octets everywhere so the header CRC check runs at every other byte.
    for (let i = 0; i < big.length; i += 7) big.set([0x05, 0x64], i);
    const session = createDnp3Session();
    const t0 = performance.now();
    const items = session.push('a', big, undefined);
    const ms = performance.now() - t0;
    assert.ok(items.every((i) => i.type === 'error'));
    // One error per run of skipped octets, not one per false start: garbage cannot flood events.
    assert.ok(items.length <= 2, `${items.length} errors`);
    assert.ok(ms < 2000, `${ms} ms`);
  });
});
