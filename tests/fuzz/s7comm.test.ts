/**
 * Property tests for the S7comm codec (TPKT/COTP framing, S7 PDU decoding, the session): any bytes
 * give a PDU or a typed error, never an exception, and every message maps to a valid Event; valid
 * frames decode the same however the TCP stream is chunked; mutated valid frames stay typed; a
 * valid frame after garbage (that holds no TPKT version byte) is still found; work is linear and
 * buffering bounded by one TPKT. Seeds are random; a failure prints its seed and counterexample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseEvent } from '../../protocols/event/schema.ts';
import {
  createS7commSession,
  createTpktDeframer,
  decodeS7Pdu,
  MAX_TPKT_BYTES,
  parseCotp,
  s7commErrorToEvent,
  s7commToEvent,
  type S7Direction,
} from '../../protocols/s7comm/index.ts';
import {
  CR,
  dt,
  PLC_START,
  PLC_STOP,
  READ_DB,
  READ_DB_ACK,
  READ_SZL,
  SETUP,
  WRITE_M,
} from '../protocols/s7comm/frames.ts';

const ERRORS = new Set([
  'truncated',
  'invalid_tpkt',
  'invalid_cotp',
  'invalid_header',
  'invalid_parameter',
  'invalid_data',
  'unknown_protocol',
  'too_large',
]);
const CTX = {
  received: new Date('2024-06-01T00:00:00Z'),
  client: { ip: '10.0.0.9', port: 49152 },
  server: { ip: '10.0.0.1', port: 102 },
};
const asEvent = (e: object) => ({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });
const valid = (e: object) => {
  const r = parseEvent(asEvent(e));
  assert.ok(r.ok, JSON.stringify(r));
};

const FRAMES = [CR, dt(SETUP), dt(READ_DB), dt(WRITE_M), dt(PLC_STOP), dt(PLC_START), dt(READ_SZL)];
const REPLY = [dt(READ_DB_ACK)];

/** S7 PDUs that start like S7comm (0x32, a known ROSCTR) more often than chance would. */
const pduBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(fc.constantFrom(1, 2, 3, 7), fc.uint8Array({ maxLength: 300 }))
    .map(([r, rest]) => Uint8Array.from([0x32, r, ...rest])),
  fc.uint8Array({ maxLength: 120 }).map((rest) => Uint8Array.from([0x72, 3, ...rest])),
);

/** Splits bytes into chunks at the given cut points. */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    if (c > prev) out.push(bytes.slice(prev, c));
    prev = Math.max(prev, c);
  }
  return out;
}

const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** Pushes chunks through a session; checks every error is typed and every event valid. */
function run(parts: Uint8Array[], direction: S7Direction = 'request') {
  const s = createS7commSession<number>();
  const actions: string[] = [];
  let errors = 0;
  parts.forEach((p, i) => {
    const r = s.push(direction, p, i);
    for (const e of r.errors) {
      assert.ok(ERRORS.has(e.code), e.code);
      valid(s7commErrorToEvent(e, e.skipped, direction, CTX));
      errors++;
    }
    for (const m of r.messages) {
      if (m.error) assert.ok(ERRORS.has(m.error.code), m.error.code);
      const e = s7commToEvent(m, { ...CTX, extra: { frame: i } });
      valid(e);
      actions.push(e.action);
    }
  });
  return { actions, errors };
}

describe('S7comm codec properties', () => {
  test('any S7 PDU bytes: a PDU or a typed error, never a throw', () => {
    fc.assert(
      fc.property(pduBytes, (bytes) => {
        const r = decodeS7Pdu(bytes);
        if (!r.ok) assert.ok(ERRORS.has(r.error.code), r.error.code);
        else assert.ok(r.value.protocol === 's7comm' || r.value.protocol === 's7comm_plus');
      }),
      { numRuns: 5000 },
    );
  });

  test('any COTP bytes: a TPDU or a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = parseCotp(bytes);
        if (!r.ok) assert.ok(ERRORS.has(r.error.code));
        else assert.ok(r.value.payload.length <= bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  test('any byte stream, any chunking: typed errors, valid events, at most one TPKT buffered', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (bytes, cuts) => {
          const d = createTpktDeframer();
          for (const p of chunks(bytes, cuts)) {
            d.push(p);
            assert.ok(d.buffered() <= MAX_TPKT_BYTES);
          }
          run(chunks(bytes, cuts));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('valid frames decode the same however the stream is chunked', () => {
    const whole = concat(FRAMES);
    const expected = run([whole]).actions;
    assert.deepEqual(expected, [
      's7comm.cotp_connect',
      's7comm.setup_communication',
      's7comm.read_var',
      's7comm.write_var',
      's7comm.plc_stop',
      's7comm.plc_start',
      's7comm.read_szl',
    ]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const r = run(chunks(whole, cuts));
        assert.deepEqual(r.actions, expected);
        assert.equal(r.errors, 0);
      }),
      { numRuns: 500 },
    );
  });

  test('mutated valid frames (byte changes, truncation): typed errors, valid events', () => {
    const frames = [...FRAMES, ...REPLY];
    fc.assert(
      fc.property(
        fc.constantFrom(...frames),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        fc.boolean(),
        (frame, changes, cut, response) => {
          const b = frame.slice();
          for (const [at, v] of changes) b[at % b.length] = v;
          run([b.subarray(0, cut % (b.length + 1)), b], response ? 'response' : 'request');
          run([b], response ? 'response' : 'request');
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('a valid frame after garbage is still decoded (resynchronisation)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }).map((g) => g.map((x) => (x === 3 ? 4 : x))),
        fc.array(fc.nat(), { maxLength: 6 }),
        (garbage, cuts) => {
          const r = run(chunks(concat([garbage, dt(PLC_STOP)]), cuts));
          assert.ok(r.errors >= 1);
          assert.equal(r.actions.at(-1), 's7comm.plc_stop');
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('work is linear: 4 MiB of noise finishes; a 64 KiB TPKT fed a byte at a time copies O(n) bytes', () => {
    const noise = Uint8Array.from({ length: 4 * 1024 * 1024 }, (_, i) => (i * 2654435761) >>> 24);
    const started = performance.now();
    const d = createTpktDeframer();
    for (let i = 0; i < noise.length; i += 1460) d.push(noise.subarray(i, i + 1460));
    assert.ok(performance.now() - started < 5000, `${performance.now() - started} ms`);
    d.reset();
    // Count the bytes the deframer copies (TypedArray#set): growing its buffer to the exact size
    // at each byte would copy n²/2 = 2 GiB; doubling copies at most a few times n.
    const big = new Uint8Array(MAX_TPKT_BYTES);
    big.set([3, 0, 0xff, 0xff, 2, 0xf0, 0x80, 0x32, 1]);
    const set = Uint8Array.prototype.set;
    let copied = 0;
    Uint8Array.prototype.set = function (this: Uint8Array, src: ArrayLike<number>, offset?: number) {
      copied += src.length;
      set.call(this, src, offset);
    };
    let tpdus = 0;
    try {
      for (let i = 0; i < big.length; i++) tpdus += d.push(big.subarray(i, i + 1)).tpdus.length;
    } finally {
      Uint8Array.prototype.set = set;
    }
    assert.equal(tpdus, 1);
    assert.ok(copied < 4 * MAX_TPKT_BYTES, `${copied} bytes copied for one ${MAX_TPKT_BYTES}-byte TPKT`);
  });

  test('COTP segments (EOT clear) join into one PDU; a rebuilt PDU is capped', () => {
    const pdu = PLC_STOP;
    const split = concat([
      dt(pdu.subarray(0, 5), false),
      dt(pdu.subarray(5, 12), false),
      dt(pdu.subarray(12), true),
    ]);
    assert.deepEqual(run([split]).actions, ['s7comm.plc_stop']);
    const s = createS7commSession();
    const piece = dt(new Uint8Array(60_000), false);
    let tooLarge = 0;
    for (let i = 0; i < 3; i++)
      tooLarge += s.push('request', piece, undefined).errors.filter((e) => e.code === 'too_large').length;
    assert.equal(tooLarge, 1);
    // The rest of the over-long PDU, up to its last segment, is dropped; the next PDU is read.
    assert.deepEqual(s.push('request', dt(new Uint8Array(10), true), undefined).messages, []);
    assert.deepEqual(
      s
        .push('request', dt(PLC_STOP), undefined)
        .messages.map((m) => m.pdu && 'rosctr' in m.pdu && m.pdu.function),
      [0x29],
    );
  });
});
