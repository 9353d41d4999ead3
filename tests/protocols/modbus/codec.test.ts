/**
 * The Modbus codec against the examples of the Modbus Application Protocol Specification V1.1b3
 * (§6.1–§6.21, §7), verbatim, plus the MBAP framing rules of the Messaging on TCP/IP
 * Implementation Guide V1.0b §3.1.3 and the RTU CRC of Modbus over Serial Line V1.02 §6.2.2.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  crc16Modbus,
  createMbapDeframer,
  createModbusSession,
  decodePdu,
  encodeMbap,
  encodeRtu,
  type ModbusPdu,
  modbusToEvent,
  parseAdu,
  parseRtu,
} from '../../../protocols/modbus/index.ts';
import { parseEvent } from '../../../protocols/event/schema.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function req(s: string): ModbusPdu {
  const r = decodePdu(hex(s), 'request');
  assert.ok(r.ok, JSON.stringify(r));
  return r.pdu;
}

function res(s: string, request?: ModbusPdu): ModbusPdu {
  const r = decodePdu(hex(s), 'response', request ? { request } : {});
  assert.ok(r.ok, JSON.stringify(r));
  return r.pdu;
}

describe('Modbus Application Protocol V1.1b3 §6 examples', () => {
  test('§6.1 read coils 20–38', () => {
    const q = req('01 0013 0013');
    assert.deepEqual([q.address, q.quantity], [19, 19]);
    const r = res('01 03 CD 6B 05', q);
    assert.deepEqual(r.values, [1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1]);
    assert.equal(r.address, 19);
  });
  test('§6.2 read discrete inputs 197–218', () => {
    const q = req('02 00C4 0016');
    const r = res('02 03 AC DB 35', q);
    assert.equal(r.values!.length, 22);
    assert.deepEqual(r.values!.slice(0, 8), [0, 0, 1, 1, 0, 1, 0, 1]);
  });
  test('§6.3 read holding registers 108–110', () => {
    const q = req('03 006B 0003');
    assert.deepEqual([q.address, q.quantity], [107, 3]);
    assert.deepEqual(res('03 06 022B 0000 0064', q).values, [555, 0, 100]);
  });
  test('§6.4 read input register 9', () => {
    assert.deepEqual(res('04 02 000A', req('04 0008 0001')).values, [10]);
  });
  test('§6.5 write single coil 173 ON; other values are an anomaly', () => {
    const q = req('05 00AC FF00');
    assert.deepEqual([q.address, q.values, q.anomalies], [172, [1], []]);
    assert.deepEqual(res('05 00AC FF00').values, [1]);
    assert.deepEqual(req('05 00AC 1234').anomalies, ['invalid_coil_value']);
  });
  test('§6.6 write single register 2 = 3', () => {
    const q = req('06 0001 0003');
    assert.deepEqual([q.address, q.values], [1, [3]]);
  });
  test('§6.7 read exception status', () => {
    assert.equal(res('07 6D').status, 0x6d);
  });
  test('§6.8 diagnostics return query data echoes', () => {
    const q = req('08 0000 A537');
    assert.equal(q.subFunction, 0);
    assert.deepEqual([...q.data], [0xa5, 0x37]);
    assert.equal(req('08 0004 0000').subFunction, 4);
  });
  test('§6.9 get comm event counter', () => {
    const r = res('0B FFFF 0108');
    assert.deepEqual([r.status, r.eventCount], [0xffff, 264]);
  });
  test('§6.10 get comm event log', () => {
    const r = res('0C 08 0000 0108 0121 20 00');
    assert.deepEqual([r.byteCount, r.status, r.eventCount, r.messageCount], [8, 0, 264, 289]);
    assert.deepEqual([...r.data], [0x20, 0x00]);
  });
  test('§6.11 write multiple coils 20–29', () => {
    const q = req('0F 0013 000A 02 CD 01');
    assert.deepEqual(q.values, [1, 0, 1, 1, 0, 0, 1, 1, 1, 0]);
    assert.deepEqual([res('0F 0013 000A').address, res('0F 0013 000A').quantity], [19, 10]);
  });
  test('§6.12 write multiple registers 2–3', () => {
    const q = req('10 0001 0002 04 000A 0102');
    assert.deepEqual([q.address, q.quantity, q.values], [1, 2, [10, 258]]);
  });
  test('§6.14 read file record', () => {
    const q = req('14 0E 06 0004 0001 0002 06 0003 0009 0002');
    assert.deepEqual(q.fileRecords, [
      { referenceType: 6, fileNumber: 4, recordNumber: 1, recordLength: 2 },
      { referenceType: 6, fileNumber: 3, recordNumber: 9, recordLength: 2 },
    ]);
    const r = res('14 0C 05 06 0DFE 0020 05 06 33CD 0040');
    assert.deepEqual(r.fileRecords, [
      { referenceType: 6, values: [0x0dfe, 0x20] },
      { referenceType: 6, values: [0x33cd, 0x40] },
    ]);
  });
  test('§6.15 write file record', () => {
    const q = req('15 0D 06 0004 0007 0003 06AF 04BE 100D');
    assert.deepEqual(q.fileRecords, [
      { referenceType: 6, fileNumber: 4, recordNumber: 7, recordLength: 3, values: [0x06af, 0x04be, 0x100d] },
    ]);
  });
  test('§6.16 mask write register 4', () => {
    const q = req('16 0004 00F2 0025');
    assert.deepEqual([q.address, q.andMask, q.orMask], [4, 0xf2, 0x25]);
  });
  test('§6.17 read/write multiple registers', () => {
    const q = req('17 0003 0006 000E 0003 06 00FF 00FF 00FF');
    assert.deepEqual(
      [q.readAddress, q.readQuantity, q.writeAddress, q.writeQuantity, q.values],
      [3, 6, 14, 3, [255, 255, 255]],
    );
    const r = res('17 0C 00FE 0ACD 0001 0003 000D 00FF', q);
    assert.deepEqual([r.address, r.values], [3, [0xfe, 0x0acd, 1, 3, 0x0d, 0xff]]);
  });
  test('§6.18 read FIFO queue', () => {
    const q = req('18 04DE');
    assert.equal(q.address, 0x04de);
    const r = res('18 0006 0002 01B8 1284', q);
    assert.deepEqual([r.fifoCount, r.values], [2, [0x01b8, 0x1284]]);
  });
  test('§6.21 read device identification', () => {
    const q = req('2B 0E 01 00');
    assert.deepEqual([q.meiType, q.readDeviceIdCode, q.objectId], [14, 1, 0]);
    const objects = ['Company identification', 'Product code XX', 'V2.11'];
    const body = objects.flatMap((o, i) => [i, o.length, ...Buffer.from(o, 'latin1')]);
    const r = decodePdu(Uint8Array.from([0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x03, ...body]), 'response');
    assert.ok(r.ok);
    assert.deepEqual(
      r.pdu.objects!.map((o) => o.value),
      objects,
    );
    assert.equal(r.pdu.conformityLevel, 1);
  });
  test('§7 exception response: illegal data address', () => {
    const r = res('81 02');
    assert.deepEqual([r.exception, r.function, r.exceptionCode], [true, 1, 2]);
  });
  test('unknown and vendor codes are kept raw; damage is a typed error', () => {
    const umas = req('5A 00 02');
    assert.equal(umas.function, 90);
    assert.deepEqual([...umas.data], [0, 2]);
    assert.equal(decodePdu(new Uint8Array(0), 'request').ok, false);
    const short = decodePdu(hex('03 00'), 'request');
    assert.ok(!short.ok && short.error.code === 'truncated');
    const big = decodePdu(new Uint8Array(254).fill(3), 'request');
    assert.ok(!big.ok && big.error.code === 'pdu_too_large');
    const count = decodePdu(hex('03 08 0001'), 'response');
    assert.ok(!count.ok && count.error.code === 'byte_count_mismatch');
    assert.deepEqual(req('03 0000 007E').anomalies, ['quantity_out_of_range']);
  });
});

describe('MBAP framing (Messaging on TCP/IP §3.1.3)', () => {
  test('parses one ADU and checks protocol id and length', () => {
    const adu = encodeMbap({ transactionId: 0x1234, unitId: 7 }, hex('03 006B 0003'));
    const p = parseAdu(adu);
    assert.ok(p.ok);
    assert.deepEqual(p.adu.header, { transactionId: 0x1234, protocolId: 0, length: 6, unitId: 7 });
    const bad = adu.slice();
    bad[3] = 1;
    const r = parseAdu(bad);
    assert.ok(!r.ok && r.error.code === 'invalid_protocol_id');
    const wrong = parseAdu(adu.subarray(0, adu.length - 1));
    assert.ok(!wrong.ok && wrong.error.code === 'invalid_length');
  });
  test('the deframer cuts a stream however it is split, and resynchronises after garbage', () => {
    const a = encodeMbap({ transactionId: 1, unitId: 1 }, hex('03 0000 0002'));
    const b = encodeMbap({ transactionId: 2, unitId: 1 }, hex('06 0001 0003'));
    const stream = Uint8Array.from([...a, ...b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = createMbapDeframer();
      const r1 = d.push(stream.subarray(0, cut));
      const r2 = d.push(stream.subarray(cut));
      assert.deepEqual(
        [...r1.adus, ...r2.adus].map((x) => x.header.transactionId),
        [1, 2],
      );
    }
    const d = createMbapDeframer();
    const junk = d.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    assert.equal(junk.errors[0]!.code, 'invalid_protocol_id');
    assert.equal(d.buffered(), 0);
    assert.equal(d.push(a).adus.length, 1);
  });
});

describe('sessions pair responses with requests', () => {
  test('a response gets its request context; strays and mismatches are flagged', () => {
    const s = createModbusSession<number>();
    const q = parseAdu(encodeMbap({ transactionId: 5, unitId: 1 }, hex('01 0010 0003')));
    const r = parseAdu(encodeMbap({ transactionId: 5, unitId: 1 }, hex('01 01 05')));
    assert.ok(q.ok && r.ok);
    s.decode(q.adu, 'request', 42);
    const out = s.decode(r.adu, 'response', 43);
    assert.equal(out.request?.meta, 42);
    assert.ok(out.result.ok);
    assert.deepEqual([out.result.pdu.address, out.result.pdu.values], [16, [1, 0, 1]]);
    assert.deepEqual(s.decode(r.adu, 'response', 44).anomalies, ['unmatched_response']);
    const other = parseAdu(encodeMbap({ transactionId: 6, unitId: 2 }, hex('03 0000 0001')));
    const reply = parseAdu(encodeMbap({ transactionId: 6, unitId: 3 }, hex('03 02 0001')));
    assert.ok(other.ok && reply.ok);
    s.decode(other.adu, 'request', 45);
    assert.deepEqual(s.decode(reply.adu, 'response', 46).anomalies, ['transaction_mismatch']);
  });
});

describe('events', () => {
  const received = new Date('2024-06-01T12:00:00Z');
  const ctx = {
    received,
    master: { ip: '10.0.0.9', port: 40000 },
    server: { ip: '10.0.0.3', port: 502 },
    transport: 'tcp' as const,
  };
  test('a write is a security event about the server, and valid against the Event schema', () => {
    const e = modbusToEvent(
      { transactionId: 1, protocolId: 0, length: 6, unitId: 1 },
      req('06 0001 0003'),
      ctx,
    );
    assert.equal(e.action, 'modbus.write_single_register');
    assert.equal(e.kind, 'security');
    assert.deepEqual(e.device, { id: 'modbus:10.0.0.3/1', protocol_id: '1' });
    assert.deepEqual([e.src?.ip, e.dst?.ip], ['10.0.0.9', '10.0.0.3']);
    assert.deepEqual([e.fields.address, e.fields.values], [1, [3]]);
    assert.ok(parseEvent({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 }).ok);
  });
  test('force listen only mode is critical; an exception is modbus.exception', () => {
    const h = { transactionId: 1, protocolId: 0, length: 6, unitId: 1 };
    const diag = modbusToEvent(h, req('08 0004 0000'), ctx);
    assert.deepEqual(
      [diag.action, diag.severity, diag.fields.sub_function_name],
      ['modbus.diagnostics', 2, 'force_listen_only_mode'],
    );
    const ex = modbusToEvent(h, res('86 02'), ctx);
    assert.deepEqual(
      [ex.action, ex.fields.exception, ex.fields.function],
      ['modbus.exception', 'illegal_data_address', 'write_single_register'],
    );
    assert.deepEqual([ex.src?.ip, ex.dst?.ip], ['10.0.0.3', '10.0.0.9']);
  });
});

describe('RTU (Modbus over Serial Line §2.5.1, §6.2.2)', () => {
  test('CRC of the read holding registers example and round trip', () => {
    // Serial line spec, "CRC Generation": 0x02 0x07 gives CRC 0x1241 (low byte 0x41 first).
    assert.equal(crc16Modbus(Uint8Array.from([0x02, 0x07])), 0x1241);
    const frame = encodeRtu(17, hex('03 006B 0003'));
    assert.deepEqual([...frame.subarray(-2)], [0x76, 0x87]);
    const p = parseRtu(frame);
    assert.ok(p.ok && p.frame.address === 17);
    frame[2] = frame[2]! ^ 1;
    const bad = parseRtu(frame);
    assert.ok(!bad.ok && bad.error.code === 'invalid_crc');
  });
});
