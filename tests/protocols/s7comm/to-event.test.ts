/**
 * The S7comm session and its mapping to Event on hand-built frames: actions a rule matches
 * (`s7comm.plc_stop`, `s7comm.plc_start`, `s7comm.request_download`, `s7comm.write_var`,
 * `s7comm.read_szl`), kind and severity, item fields, pairing of answers with requests by PDU
 * reference and its anomalies, error answers, COTP connects with their TSAPs, malformed PDUs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
import { createS7commSession, s7commToEvent, type S7Direction } from '../../../protocols/s7comm/index.ts';
import {
  CR,
  DOWNLOAD,
  dt,
  hex,
  PLC_START,
  PLC_STOP,
  READ_DB,
  READ_DB_ACK,
  READ_SZL,
  s7,
  WRITE_M,
} from './frames.ts';

const CTX = {
  received: new Date('2024-06-01T00:00:00Z'),
  client: { ip: '10.0.9.30', port: 50000 },
  server: { ip: '10.0.10.20', port: 102 },
};

function events(...frames: Array<[S7Direction, Uint8Array]>) {
  const s = createS7commSession<number>();
  return frames.flatMap(([dir, bytes], i) =>
    s.push(dir, bytes, i).messages.map((m) => {
      const e = s7commToEvent(m, { ...CTX, extra: { frame: i } });
      const r = parseEvent({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });
      assert.ok(r.ok, JSON.stringify(r));
      return e;
    }),
  );
}

describe('S7comm events', () => {
  test('PLC stop and start are security events of severity 2 with the PI service', () => {
    const [stop, start] = events(['request', dt(PLC_STOP)], ['request', dt(PLC_START)]);
    assert.deepEqual(
      [stop!.action, stop!.kind, stop!.severity, stop!.fields.pi_service, stop!.fields.function_code],
      ['s7comm.plc_stop', 'security', 2, 'P_PROGRAM', 0x29],
    );
    assert.deepEqual(
      [start!.action, start!.severity, start!.fields.function],
      ['s7comm.plc_start', 2, 'pi_service'],
    );
    assert.deepEqual(
      [stop!.src, stop!.dst, stop!.device],
      [{ ip: '10.0.9.30', port: 50000 }, { ip: '10.0.10.20', port: 102 }, { id: 's7comm:10.0.10.20' }],
    );
  });

  test('request download names the block; write var lists its items, areas and values', () => {
    const [dl, wr] = events(['request', dt(DOWNLOAD)], ['request', dt(WRITE_M)]);
    assert.deepEqual(
      [dl!.action, dl!.severity, dl!.fields.filename, dl!.fields.block_type, dl!.fields.block_number],
      ['s7comm.request_download', 2, '_0800001P', 'ob', 1],
    );
    assert.equal(dl!.fields.destination_filesystem, 'passive');
    assert.deepEqual([wr!.action, wr!.kind, wr!.severity], ['s7comm.write_var', 'security', 5]);
    assert.deepEqual(wr!.fields.items, [
      {
        syntax_id: 0x10,
        area: 'flags',
        db: 0,
        byte_address: 16,
        bit_address: 0,
        transport_size: 2,
        length: 1,
      },
    ]);
    assert.deepEqual(
      [wr!.fields.areas, wr!.fields.values, wr!.fields.return_codes],
      [['flags'], ['01'], undefined],
    );
  });

  test('an answer takes its request action and is paired by PDU reference', () => {
    const [q, a] = events(['request', dt(READ_DB)], ['response', dt(READ_DB_ACK)]);
    assert.deepEqual([q!.action, q!.kind, q!.fields.dbs], ['s7comm.read_var', 'telemetry', [1]]);
    assert.deepEqual(
      [a!.action, a!.fields.direction, a!.fields.values, a!.fields.return_codes, a!.fields.anomalies],
      ['s7comm.read_var', 'response', ['01020304'], ['success'], undefined],
    );
    assert.deepEqual([a!.src?.ip, a!.dst?.ip], ['10.0.10.20', '10.0.9.30']);
  });

  test('an answer nobody asked for, a reused PDU reference, a function that differs: anomalies', () => {
    const [lone] = events(['response', dt(READ_DB_ACK)]);
    assert.deepEqual(
      [lone!.fields.anomalies, lone!.tags, lone!.severity],
      [['unmatched_response'], ['anomaly'], 4],
    );
    const [, dup] = events(['request', dt(READ_DB)], ['request', dt(READ_DB)]);
    assert.deepEqual(dup!.fields.anomalies, ['duplicate_pdu_ref']);
    const [, odd] = events(['request', dt(s7(1, 2, hex('05 00')))], ['response', dt(READ_DB_ACK)]);
    assert.deepEqual(odd!.fields.anomalies, ['function_mismatch']);
  });

  test('an Ack with an error class is s7comm.error, naming the refused request', () => {
    const [, err] = events(
      ['request', dt(PLC_STOP)],
      ['response', dt(s7(2, 4, new Uint8Array(0), new Uint8Array(0), [0xd2, 0x0c]))],
    );
    assert.deepEqual(
      [err!.action, err!.kind, err!.severity, err!.fields.error, err!.fields.function],
      ['s7comm.error', 'security', 4, 'ok_parameter_error', 'plc_stop'],
    );
  });

  test('read SZL: the SZL id and index; the answer fills the identity fields and the device', () => {
    // SZL 0x001c answer: one 34-byte entry, index 5 = serial number.
    const entry = Uint8Array.from([0, 5, ...Buffer.from('S C-X12345678'.padEnd(32, '\0'))]);
    const szl = Uint8Array.from([0x00, 0x1c, 0, 0, 0, 34, 0, 1, ...entry]);
    const data = Uint8Array.from([0xff, 0x09, 0, szl.length, ...szl]);
    const answer = s7(7, 7, hex('000112 08 12 84 01 01 00 00 0000'), data);
    const [q, a] = events(['request', dt(READ_SZL)], ['response', dt(answer)]);
    assert.deepEqual(
      [q!.action, q!.kind, q!.fields.szl_id, q!.fields.szl_index],
      ['s7comm.read_szl', 'security', '0x0011', '0x0000'],
    );
    assert.deepEqual(
      [a!.fields.szl_id, a!.fields.serial_number, a!.device],
      ['0x001c', 'S C-X12345678', { id: 's7comm:10.0.10.20', protocol_id: 'S C-X12345678' }],
    );
  });

  test('COTP connect carries the TSAPs (rack/slot); a bad S7 PDU is s7comm.malformed', () => {
    const [cr, bad] = events(['request', CR], ['request', dt(hex('32 01 0000 0001 00ff 0000 04'))]);
    assert.deepEqual(
      [cr!.action, cr!.fields.src_tsap, cr!.fields.dst_tsap, cr!.fields.tpdu_size_bytes],
      ['s7comm.cotp_connect', '0100', '0102', 1024],
    );
    assert.deepEqual(
      [bad!.action, bad!.kind, bad!.fields.code],
      ['s7comm.malformed', 'security', 'truncated'],
    );
  });

  test('bounds: 256 open requests per connection, fragmented answers capped at 64 KiB', () => {
    const s = createS7commSession();
    for (let ref = 0; ref < 300; ref++) s.push('request', dt(s7(1, ref, hex('04 00'))), undefined);
    assert.equal(s.open(), 256);
    // A Read SZL answer in data units of 40,000 bytes (data unit 0x01, more follow).
    const unit = (last: boolean) => {
      const data = new Uint8Array(4 + 40_000);
      data.set([0xff, 0x09, 40_000 >> 8, 40_000 & 0xff]);
      return dt(s7(7, 9, hex(`000112 08 12 84 01 01 01 ${last ? '00' : '01'} 0000`), data));
    };
    const first = s.push('response', unit(false), undefined).messages[0]!;
    assert.deepEqual(first.pdu?.anomalies, []);
    const second = s.push('response', unit(true), undefined).messages[0]!;
    assert.deepEqual(second.pdu?.anomalies, ['fragments_too_large']);
    assert.equal(second.szl, undefined);
  });
});
