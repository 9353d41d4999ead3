/**
 * The DNP3 codec on hand-made fragments: the CRC-16/DNP check value, the classic Reset Link States
 * frame, transport errors (orphan segment, sequence gap, oversize fragment), object walks with
 * values (CROB, analog output, binary packed bits), attacker-sized counts, request/response pairing
 * anomalies, and the events a rule sees (action, kind, severity, device, flat fields).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
import {
  crcDnp,
  createDnp3Session,
  decodeApdu,
  type Dnp3SessionItem,
  dnp3ItemToEvent,
  encodeFragment,
  encodeLinkFrame,
  scanLinkFrames,
} from '../../../protocols/dnp3/index.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const MASTER = { ip: '10.0.0.8', port: 40000 };
const OUTSTATION = { ip: '10.0.0.3', port: 20000 };

function exchange(fragments: Array<{ apdu: string; fromMaster: boolean; dst?: number; firstSeq?: number }>) {
  const session = createDnp3Session<{ frame: number }>();
  const out: Array<{ item: Dnp3SessionItem<{ frame: number }>; fromMaster: boolean }> = [];
  fragments.forEach((f, i) => {
    const bytes = concat(
      encodeFragment(hex(f.apdu), {
        source: f.fromMaster ? 3 : 4,
        destination: f.dst ?? (f.fromMaster ? 4 : 3),
        dir: f.fromMaster,
        firstSeq: f.firstSeq ?? 0,
      }),
    );
    for (const item of session.push(f.fromMaster ? 'client' : 'server', bytes, { frame: i + 1 }))
      out.push({ item, fromMaster: f.fromMaster });
  });
  return out;
}

function events(fragments: Parameters<typeof exchange>[0]) {
  return exchange(fragments).flatMap(({ item, fromMaster }) => {
    const e = dnp3ItemToEvent(item, {
      received: new Date('2026-01-01T00:00:00Z'),
      transport: 'tcp',
      src: fromMaster ? MASTER : OUTSTATION,
      dst: fromMaster ? OUTSTATION : MASTER,
    });
    if (!e) return [];
    const parsed = parseEvent({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    return [e];
  });
}

describe('DNP3 link and transport layers', () => {
  test('CRC-16/DNP check value and the Reset Link States frame from master 1 to outstation 1024', () => {
    assert.equal(crcDnp(Buffer.from('123456789')), 0xea82);
    const frame = hex('0564 05 C0 0100 0004 E921');
    const { items } = scanLinkFrames(frame, true);
    assert.equal(items.length, 1);
    const f = items[0]!.type === 'frame' ? items[0]!.frame : assert.fail('not a frame');
    assert.deepEqual(
      [f.header.dir, f.header.prm, f.header.function, f.header.destination, f.header.source, f.data.length],
      [true, true, 0, 1, 1024, 0],
    );
    const mine = encodeLinkFrame({ ...f.header }, new Uint8Array(0));
    assert.deepEqual([...mine], [...frame]);
  });

  test('a damaged data block is refused, the next frame still read', () => {
    const read = encodeFragment(hex('C0 01 3C02 06'), { source: 3, destination: 4, dir: true })[0]!;
    const bad = Uint8Array.from(read);
    bad[11]! ^= 0xff;
    const { items } = scanLinkFrames(concat([bad, read]), true);
    assert.deepEqual(
      items.map((i) => (i.type === 'frame' ? 'frame' : i.error.code)),
      ['data_crc', 'frame'],
    );
  });

  test('orphan and out-of-sequence segments, oversize fragments: typed errors', () => {
    const big = new Uint8Array(600).fill(0);
    big.set([0xc0, 0x02]);
    const [first, second, third] = encodeFragment(big, {
      source: 3,
      destination: 4,
      dir: true,
      firstSeq: 62,
    });
    const s = createDnp3Session();
    const codes = (items: Dnp3SessionItem<undefined>[]) =>
      items.flatMap((i) => (i.type === 'error' ? [i.error.code] : i.type === 'apdu' ? ['apdu'] : []));
    assert.deepEqual(codes(s.push('a', second!, undefined)), ['transport_orphan']);
    assert.deepEqual(codes(s.push('a', concat([first!, third!]), undefined)), ['transport_sequence']);
    // Sequence 62, 63, 0: the wrap is not a gap.
    assert.deepEqual(codes(s.push('a', concat([first!, second!, third!]), undefined)), ['apdu']);
    const small = createDnp3Session({ maxFragmentBytes: 300 });
    assert.deepEqual(codes(small.push('a', concat([first!, second!, third!]), undefined)), [
      'fragment_too_large',
    ]);
  });
});

describe('DNP3 application layer', () => {
  test('DIRECT_OPERATE of a CROB and an analog output: points with their values', () => {
    // g12v1 qualifier 0x28 (2-octet count, 2-octet index): index 7, LATCH_ON|CLOSE, count 1, 100 ms on.
    // g41v2 qualifier 0x28: index 3 := -5.
    const r = decodeApdu(hex('C1 05 0C01 28 0100 0700 43 01 64000000 00000000 00 2902 28 0100 0300 FBFF 00'));
    assert.ok(r.ok);
    const [crob, ao] = r.apdu.objects;
    assert.deepEqual(crob!.points[0], {
      index: 7,
      flags: 0,
      crob: {
        opType: 3,
        queue: false,
        clear: false,
        tcc: 1,
        count: 1,
        onTimeMs: 100,
        offTimeMs: 0,
        status: 0,
      },
    });
    assert.deepEqual(ao!.points[0], { index: 3, value: -5, flags: 0 });
  });

  test('packed binary inputs and a READ of points by index', () => {
    const r = decodeApdu(hex('E0 81 0000 0101 00 0009 A501'));
    assert.ok(r.ok);
    assert.deepEqual(
      r.apdu.objects[0]!.points.map((p) => p.value),
      [1, 0, 1, 0, 0, 1, 0, 1, 1, 0],
    );
    const q = decodeApdu(hex('C0 01 1E01 17 03 05 09 0B'));
    assert.ok(q.ok);
    assert.deepEqual(
      q.apdu.objects[0]!.points.map((p) => p.index),
      [5, 9, 11],
    );
  });

  test('a count of 2^32 - 1 objects is refused at once, not walked', () => {
    const r = decodeApdu(hex('C0 02 1E01 09 FFFFFFFF 00'));
    assert.ok(r.ok);
    assert.equal(r.apdu.objectError?.code, 'truncated');
    const read = decodeApdu(hex('C0 01 1E01 02 00000000 FFFFFFFF'));
    assert.ok(read.ok);
    assert.equal(read.apdu.objects[0]!.count, 2 ** 32);
    assert.equal(read.apdu.objects[0]!.points.length, 64);
  });
});

describe('DNP3 events', () => {
  test('COLD_RESTART from the master: critical, named, the outstation as device', () => {
    const [req, res] = events([
      { apdu: 'C5 0D', fromMaster: true },
      { apdu: 'C5 81 8000 3401 07 01 1027', fromMaster: false },
    ]);
    assert.equal(req!.action, 'dnp3.cold_restart');
    assert.deepEqual([req!.kind, req!.severity, req!.source], ['security', 2, 'dnp3']);
    assert.deepEqual(req!.device, { id: 'dnp3:10.0.0.3/4', protocol_id: '4' });
    assert.deepEqual(
      [req!.fields.master_address, req!.fields.outstation_address, req!.fields.broadcast],
      [3, 4, false],
    );
    assert.equal(res!.action, 'dnp3.response');
    assert.deepEqual(
      [res!.kind, res!.fields.request_function, res!.fields.request_frame],
      ['security', 'cold_restart', 1],
    );
    assert.deepEqual(res!.fields.iin_flags, ['device_restart']);
    assert.deepEqual(res!.fields.values, [10000]);
    assert.deepEqual(res!.device, { id: 'dnp3:10.0.0.3/4', protocol_id: '4' });
  });

  test('broadcast WRITE of the time, unmatched and out-of-sequence responses', () => {
    const [write] = events([{ apdu: 'C1 02 3201 07 01 000000000000', fromMaster: true, dst: 0xffff }]);
    assert.deepEqual(
      [write!.action, write!.fields.broadcast, write!.fields.object_groups],
      ['dnp3.write', true, ['g50v1']],
    );
    const [lonely] = events([{ apdu: 'C2 81 0000', fromMaster: false }]);
    assert.deepEqual(lonely!.fields.anomalies, ['unmatched_response']);
    assert.ok(lonely!.tags.includes('anomaly'));
    const [, wrong] = events([
      { apdu: 'C3 01 3C01 06', fromMaster: true },
      { apdu: 'C4 81 0000', fromMaster: false },
    ]);
    assert.deepEqual(wrong!.fields.anomalies, ['sequence_mismatch']);
  });

  test('polling is telemetry; DISABLE_UNSOLICITED and SELECT/OPERATE are security', () => {
    const [read, disable, select] = events([
      { apdu: 'C0 01 3C02 06 3C03 06 3C04 06', fromMaster: true },
      { apdu: 'C1 15 3C02 06', fromMaster: true },
      { apdu: 'C2 03 0C01 28 0100 0200 41 01 F4010000 00000000 00', fromMaster: true },
    ]);
    assert.deepEqual(
      [read!.kind, read!.severity, read!.fields.object_groups],
      ['telemetry', 6, ['g60v2', 'g60v3', 'g60v4']],
    );
    assert.deepEqual(
      [disable!.action, disable!.kind, disable!.severity],
      ['dnp3.disable_unsolicited', 'security', 4],
    );
    assert.deepEqual([select!.action, select!.fields.point_indexes], ['dnp3.select', [2]]);
    assert.deepEqual((select!.fields.points as Array<Record<string, unknown>>)[0], {
      object: 'g12v1',
      index: 2,
      flags: 0,
      op_type: 'pulse_on',
      tcc: 'close',
      clear: false,
      count: 1,
      on_time_ms: 500,
      off_time_ms: 0,
      status: 0,
    });
  });
});
