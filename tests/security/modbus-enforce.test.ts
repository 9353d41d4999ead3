/**
 * Issue 15 item 2: the Modbus proxy's enforce mode fails closed. A recording PLC (a real TCP
 * server keeping every byte it receives) sits behind the proxy; raw sockets send malformed PDUs
 * (truncated FC 16, FC 5 with 3 data bytes, truncated FC 8, 21 and 23, trailing bytes), unknown
 * function codes, requests from unknown masters and broken MBAP headers. Nothing of them may reach
 * the PLC; each gets the exception of Modbus Application Protocol V1.1b3 §7 (or the connection is
 * closed) and is a `modbus.policy_violation` event. mbpoll (Debian mbpoll) checks the same with a
 * real master. Monitor mode still forwards malformed frames, and reports them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Source } from '../../gateway/pipeline/types.ts';
import { encodeMbap } from '../../protocols/modbus/index.ts';
import { requireTool, waitFor } from '../support/env.ts';
import {
  connectRawMaster,
  type RecordingPlc,
  startProxy,
  startRecordingPlc,
} from '../gateway/sources/modbus-proxy/plc.ts';

const MALFORMED: Array<[string, number[]]> = [
  ['truncated FC 16 (byte count 4, 2 bytes present)', [0x10, 0, 1, 0, 2, 4, 0, 10]],
  ['FC 5 with 3 data bytes', [0x05, 0, 1, 0xff]],
  ['truncated FC 8 (no sub-function)', [0x08, 0]],
  ['truncated FC 21 (byte count 13, 4 bytes present)', [0x15, 13, 6, 0, 4, 0]],
  ['truncated FC 23 (4 of 9 header bytes)', [0x17, 0, 1, 0, 2]],
  ['FC 3 with a second request smuggled behind it', [0x03, 0, 1, 0, 1, 0x06, 0, 1, 0, 42]],
  ['FC 5 with a coil value other than 0x0000/0xFF00', [0x05, 0, 1, 0x12, 0x34]],
  ['FC 16 whose byte count disagrees with its quantity', [0x10, 0, 1, 0, 2, 2, 0, 10]],
];

describe('modbus proxy enforce mode fails closed', () => {
  let plc: RecordingPlc;
  const sources: Source[] = [];
  const proxy = async (extra: Record<string, unknown>) => {
    const p = await startProxy(plc.port, extra);
    sources.push(p.source);
    return p;
  };
  const everything = {
    mode: 'enforce',
    masters: [{ address: '127.0.0.1', address_ranges: [{ start: 0, end: 99 }] }],
  };

  before(async () => {
    plc = await startRecordingPlc();
  });
  after(async () => {
    for (const s of sources) await s.stop();
    await plc.close();
  });

  test('malformed PDUs of known functions get exception 03 and never reach the PLC', async () => {
    const { ctx, port } = await proxy(everything);
    const before = plc.received().length;
    const master = await connectRawMaster(port);
    let tid = 100;
    for (const [what, pdu] of MALFORMED) {
      tid += 1;
      const answer = await master.request(tid, Uint8Array.from(pdu));
      assert.deepEqual([...answer.pdu], [pdu[0]! | 0x80, 0x03], what);
      const v = await ctx.waitEvent(
        (e) => e.action === 'modbus.policy_violation' && e.fields.transaction_id === tid,
        `the violation for ${what}`,
      );
      assert.deepEqual(
        [v.fields.reason, v.fields.blocked, v.fields.exception_code, v.fields.mode, v.kind],
        ['malformed_request', true, 3, 'enforce', 'security'],
        what,
      );
    }
    assert.equal(plc.received().length, before, 'no byte of a malformed request reached the PLC');
    // The connection still works, and a good request does reach the PLC.
    const ok = await master.request(999, Uint8Array.from([0x03, 0, 10, 0, 2]));
    assert.deepEqual([...ok.pdu], [0x03, 4, 0, 110, 0, 111]);
    assert.deepEqual(
      [...plc.received().subarray(before)],
      [...encodeMbap({ transactionId: 999, unitId: 1 }, Uint8Array.from([3, 0, 10, 0, 2]))],
    );
    master.socket.destroy();
  });

  test('an unknown master gets the policy exception (01) for well-formed and malformed requests alike', async () => {
    const { ctx, port } = await proxy({ mode: 'enforce', masters: [{ address: '10.20.30.40' }] });
    const before = plc.received().length;
    const master = await connectRawMaster(port);
    const a = await master.request(1, Uint8Array.from(MALFORMED[0]![1]));
    const b = await master.request(2, Uint8Array.from([0x06, 0, 5, 0, 1]));
    assert.deepEqual(
      [[...a.pdu], [...b.pdu]],
      [
        [0x90, 0x01],
        [0x86, 0x01],
      ],
    );
    await waitFor(() => (ctx.byAction('modbus.policy_violation').length >= 2 ? true : undefined), {
      what: 'two violations',
    });
    assert.deepEqual(
      ctx
        .byAction('modbus.policy_violation')
        .map((e) => [e.fields.reason, e.fields.exception_code, e.src?.ip]),
      [
        ['unknown_master', 1, '127.0.0.1'],
        ['unknown_master', 1, '127.0.0.1'],
      ],
    );
    assert.equal(plc.received().length, before, 'nothing from an unknown master reached the PLC');
    master.socket.destroy();
  });

  test('function codes the proxy cannot decode get 01 unless a master rule names them', async () => {
    const { ctx, port } = await proxy({ mode: 'enforce' });
    const before = plc.received().length;
    const master = await connectRawMaster(port);
    const cases: number[][] = [
      [0x5a, 0x00, 0xfe, 0x02], // FC 90 (Schneider UMAS)
      [0x83, 0, 0, 0, 1], // the exception bit set in a request
      [0x00, 1, 2], // function code 0
      [0x41, 1, 2, 3], // user-defined 65
    ];
    for (const [i, pdu] of cases.entries()) {
      const answer = await master.request(10 + i, Uint8Array.from(pdu));
      assert.deepEqual([...answer.pdu], [(pdu[0]! | 0x80) & 0xff, 0x01], `FC ${pdu[0]}`);
    }
    const reasons = ctx.byAction('modbus.policy_violation').map((e) => e.fields.reason);
    assert.deepEqual(
      reasons,
      cases.map(() => 'unsupported_function'),
    );
    assert.equal(plc.received().length, before, 'no undecodable function reached the PLC');
    master.socket.destroy();

    const granted = await proxy({
      mode: 'enforce',
      masters: [{ address: '127.0.0.1', function_codes: [3, 90] }],
    });
    const m2 = await connectRawMaster(granted.port);
    const umas = await m2.request(20, Uint8Array.from(cases[0]!));
    assert.deepEqual([...umas.pdu], [0xda, 0x01], 'the PLC itself answered');
    assert.deepEqual([...plc.adus.at(-1)!.pdu], cases[0], 'an explicitly granted FC 90 is forwarded');
    m2.socket.destroy();
  });

  test('a broken MBAP header closes the connection and is a violation; nothing reaches the PLC', async () => {
    const { ctx, port } = await proxy(everything);
    for (const [what, bytes] of [
      ['protocol id 1', [0, 1, 0, 1, 0, 6, 1, 3, 0, 0, 0, 1]],
      ['length 0', [0, 2, 0, 0, 0, 0, 1]],
      ['length 300', [0, 3, 0, 0, 0x01, 0x2c, 1, 3, 0, 0, 0, 1]],
    ] as const) {
      const before = plc.received().length;
      const master = await connectRawMaster(port);
      master.send(Uint8Array.from(bytes));
      await master.closed;
      assert.equal(master.adus.length, 0, what);
      const v = await ctx.waitEvent(
        (e) =>
          e.action === 'modbus.policy_violation' && e.fields.preview === Buffer.from(bytes).toString('hex'),
        `the violation for ${what}`,
      );
      assert.deepEqual([v.fields.reason, v.fields.blocked, v.severity], ['invalid_framing', true, 4], what);
      assert.equal(plc.received().length, before, what);
    }
  });

  test('monitor mode still forwards malformed frames, and each is an event', async () => {
    const { ctx, port } = await proxy({ mode: 'monitor', masters: [{ address: '10.20.30.40' }] });
    const master = await connectRawMaster(port);
    const before = plc.received().length;
    const sent: Buffer[] = [];
    for (const [i, [, pdu]] of MALFORMED.slice(0, 5).entries()) {
      const adu = encodeMbap({ transactionId: 50 + i, unitId: 1 }, Uint8Array.from(pdu));
      sent.push(Buffer.from(adu));
      const answer = await master.request(50 + i, Uint8Array.from(pdu));
      assert.deepEqual([...answer.pdu], [pdu[0]! | 0x80, 0x03], 'the PLC answered it');
    }
    assert.deepEqual(plc.received().subarray(before), Buffer.concat(sent), 'forwarded byte for byte');
    const malformed = ctx.byAction('modbus.malformed').filter((e) => e.fields.direction === 'request');
    assert.deepEqual(
      malformed.map((e) => e.fields.transaction_id),
      [50, 51, 52, 53, 54],
    );
    master.socket.destroy();
  });

  test('mbpoll through the enforce proxy: reads pass, a write and an unknown master are refused', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll')) return;
    const reads = await proxy({
      mode: 'enforce',
      masters: [{ address: '127.0.0.0/8', function_codes: [3] }],
    });
    const before = plc.adus.length;
    const r = await mbpoll(reads.port, ['-a', '1', '-r', '10', '-c', '3', '-t', '4', '127.0.0.1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\[10\]:\s+110\s+\[11\]:\s+111\s+\[12\]:\s+112/);
    const w = await mbpoll(reads.port, ['-a', '1', '-r', '10', '-t', '4', '127.0.0.1', '4242']);
    assert.notEqual(w.code, 0, 'mbpoll reports the exception');
    assert.match(w.stderr + w.stdout, /Illegal function/i);
    const stranger = await proxy({ mode: 'enforce', masters: [{ address: '10.20.30.40' }] });
    const s = await mbpoll(stranger.port, ['-a', '1', '-r', '10', '-t', '4', '127.0.0.1']);
    assert.notEqual(s.code, 0);
    assert.deepEqual(
      plc.adus.slice(before).map((a) => a.pdu[0]),
      [3],
      'only the allowed read reached the PLC',
    );
    await reads.ctx.waitEvent((e) => e.action === 'modbus.policy_violation', 'the write violation');
    await stranger.ctx.waitEvent(
      (e) => e.action === 'modbus.policy_violation',
      'the unknown master violation',
    );
  });
});

function mbpoll(port: number, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'mbpoll',
      ['-m', 'tcp', '-p', String(port), '-0', '-1', '-o', '2', ...args],
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
