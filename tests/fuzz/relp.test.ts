/**
 * Property tests for the RELP codec: any bytes give frames and at most one typed error, never a
 * throw or a hang; a stream of encoded frames comes back exactly, however it is fragmented; data
 * over the cap is truncated to the cap with the declared length kept; offers of any text parse
 * or give a typed error. Seeds are random; a failure prints its seed and counterexample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  createRelpDeframer,
  encodeRelpFrame,
  negotiateRelp,
  parseRelpOffers,
  type RelpFrame,
} from '../../protocols/relp/index.ts';

const ERROR_CODES = new Set([
  'bad_txnr',
  'bad_command',
  'bad_datalen',
  'bad_separator',
  'bad_trailer',
  'truncated_stream',
]);

function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

function deframe(stream: Uint8Array, cuts: number[], maxDataBytes: number) {
  const d = createRelpDeframer({ maxDataBytes });
  const results = [...chunks(stream, cuts).map((c) => d.push(c)), d.end()];
  return {
    frames: results.flatMap((r) => r.frames),
    errors: results.flatMap((r) => (r.error ? [r.error] : [])),
  };
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

const frameArb = fc.record({
  txnr: fc.integer({ min: 0, max: 999_999_999 }),
  command: fc.stringMatching(/^[A-Za-z]{1,32}$/),
  data: fc.uint8Array({ maxLength: 300 }),
});

describe('RELP deframer', () => {
  test('any bytes, any fragmentation: frames and at most one typed error, never a throw', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 0, max: 512 }),
        (bytes, cuts, max) => {
          const { frames, errors } = deframe(bytes, cuts, max);
          assert.ok(errors.length <= 1 || errors.slice(1).every((e) => e.message.startsWith('input after')));
          for (const e of errors) assert.ok(ERROR_CODES.has(e.code), e.code);
          for (const f of frames) {
            assert.ok(f.data.length <= max);
            assert.match(f.command, /^[A-Za-z]{1,32}$/);
            assert.ok(f.txnr >= 0 && f.txnr <= 999_999_999);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('encoded frames come back exactly, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const stream = concat(frames.map((f) => encodeRelpFrame(f.txnr, f.command, f.data)));
          const out = deframe(stream, cuts, 1024);
          assert.deepEqual(out.errors, []);
          assert.deepEqual(
            out.frames.map((f: RelpFrame) => [
              f.txnr,
              f.command,
              Buffer.from(f.data).toString('hex'),
              f.truncated,
            ]),
            frames.map((f) => [f.txnr, f.command, Buffer.from(f.data).toString('hex'), undefined]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test('data over the cap is cut to the cap, the frame stays whole, the next frame is intact', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 4, max: 200 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (data, max, cuts) => {
          const stream = concat([encodeRelpFrame(5, 'syslog', data), encodeRelpFrame(6, 'syslog', 'next')]);
          const out = deframe(stream, cuts, max);
          assert.deepEqual(out.errors, []);
          assert.equal(out.frames.length, 2);
          const [a, b] = out.frames;
          assert.deepEqual(Buffer.from(a!.data), Buffer.from(data.subarray(0, max)));
          assert.deepEqual(a!.truncated, data.length > max ? { declaredBytes: data.length } : undefined);
          assert.equal(Buffer.from(b!.data).toString(), 'next');
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a declared length of 999,999,999 is skipped as it streams, never buffered', () => {
    const d = createRelpDeframer({ maxDataBytes: 100 });
    d.push(Buffer.from('1 syslog 999999999 '));
    for (let i = 0; i < 100; i++) d.push(new Uint8Array(64 * 1024));
    assert.ok(d.buffered <= 100);
  });

  test('librelp examples: open, syslog, close, and the hint with txnr 0', () => {
    const d = createRelpDeframer({ maxDataBytes: 1024 });
    const r = d.push(
      Buffer.from(
        '1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n' +
          '2 syslog 26 <13>Dec  5 12:00:00 h a: x\n3 close 0\n0 serverclose 0\n',
      ),
    );
    assert.equal(r.error, undefined);
    assert.deepEqual(
      r.frames.map((f) => [f.txnr, f.command, f.data.length]),
      [
        [1, 'open', 86],
        [2, 'syslog', 26],
        [3, 'close', 0],
        [0, 'serverclose', 0],
      ],
    );
    for (const bad of [
      'x open 0\n',
      '1  open 0\n',
      '1 op3n 0\n',
      '1 open 5x',
      '1 open 2 ab!',
      '1234567890 open 0\n',
    ])
      assert.ok(createRelpDeframer({ maxDataBytes: 10 }).push(Buffer.from(bad)).error, bad);
  });
});

describe('RELP offers', () => {
  test('any text: offers or a typed error, bounded', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), (text) => {
        const r = parseRelpOffers(text);
        if (!r.ok) assert.ok(['bad_offer', 'too_many_offers'].includes(r.error.code));
        else {
          assert.ok(r.offers.size <= 32);
          const n = negotiateRelp(r.offers, {
            version: 0,
            software: 's',
            commands: ['syslog'],
            required: ['syslog'],
          });
          if (n.ok) assert.deepEqual(n.value.commands, ['syslog']);
          else assert.ok(['bad_version', 'missing_command'].includes(n.error.code));
        }
      }),
      { numRuns: 500 },
    );
  });

  test("librelp's open: negotiated to version 0 and syslog; a client without syslog is refused", () => {
    const r = parseRelpOffers(
      'relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog',
    );
    assert.ok(r.ok);
    const n = negotiateRelp(r.offers, {
      version: 0,
      software: 'edge-siem,1,-',
      commands: ['syslog'],
      required: ['syslog'],
    });
    assert.ok(n.ok);
    assert.equal(n.value.response, 'relp_version=0\nrelp_software=edge-siem,1,-\ncommands=syslog');
    assert.equal(n.value.peerSoftware, 'librelp,1.11.0,http://librelp.adiscon.com');
    const none = parseRelpOffers('relp_version=0\ncommands=');
    assert.ok(none.ok);
    const refused = negotiateRelp(none.offers, {
      version: 0,
      software: 's',
      commands: ['syslog'],
      required: ['syslog'],
    });
    assert.ok(!refused.ok && refused.error.code === 'missing_command');
  });
});
