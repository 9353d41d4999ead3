/**
 * The EtherNet/IP + CIP codec on frames built from the specification (CIP Vol. 1 §2-4, Appendix
 * A and C; Vol. 2 §2-3, §2-4, §2-6): EPATH segments, routed requests (Unconnected Send), replies
 * paired by sender context and sequence count, Forward_Open, error replies, Logix tag services,
 * and the events rules match (action, class, instance, attribute, kind, severity).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createEnipSession,
  decodeCip,
  decodeEncap,
  type EnipDirection,
  enipToEvents,
  parsePath,
} from '../../../protocols/enip/index.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  cipRequest,
  cipResponse,
  encap,
  le16,
  le32,
  logicalPath,
  mspData,
  sendRRData,
  sendUnitData,
} from './frames.ts';

const CTX = {
  received: new Date('2026-01-01T00:00:00Z'),
  client: { ip: '10.0.0.66', port: 51000 },
  server: { ip: '10.0.0.5', port: 44818 },
};

/** Runs frames through one session and maps each to events. */
function run(frames: Array<[EnipDirection, Uint8Array]>): PendingEvent[] {
  const session = createEnipSession<number>();
  const events: PendingEvent[] = [];
  frames.forEach(([direction, bytes], i) => {
    for (const d of session.push(bytes, direction, i).decoded) {
      assert.ok(d.result.ok, JSON.stringify(d.result));
      events.push(
        ...enipToEvents(d.result.value, direction, { ...CTX, anomalies: d.anomalies }, d.request?.pdu),
      );
    }
  });
  return events;
}

describe('EPATH (CIP Vol. 1 Appendix C)', () => {
  test('8-, 16- and 32-bit logical segments, member, connection point', () => {
    const a: string[] = [];
    const p = parsePath(
      Uint8Array.from([0x20, 0x04, 0x25, 0x00, ...le16(0x1234), 0x2e, 0x00, ...le32(7), 0x28, 3, 0x2c, 0x65]),
      a,
    );
    assert.deepEqual(p, { classId: 4, instanceId: 0x1234, memberId: 3, connectionPoint: 0x65 });
    // 0x2e is a 32-bit logical segment of type 3 (connection point): overwritten by the later 0x2c.
    assert.deepEqual(a, []);
  });
  test('port segments route through a backplane slot; extended links are text', () => {
    const a: string[] = [];
    const p = parsePath(
      Uint8Array.from([0x01, 0x00, 0x12, 0x03, ...Buffer.from('1.2'), 0x00, 0x20, 0x01]),
      a,
    );
    assert.deepEqual(p.route, [
      { port: 1, link: '0' },
      { port: 2, link: '1.2' },
    ]);
    assert.equal(p.classId, 1);
    assert.deepEqual(a, []);
  });
  test('ANSI extended symbol segments name a Logix tag; a cut path is an anomaly', () => {
    const a: string[] = [];
    const name = [0x91, 7, ...Buffer.from('Program'), 0, 0x91, 4, ...Buffer.from('Pump')];
    assert.equal(parsePath(Uint8Array.from(name), a).symbol, 'Program.Pump');
    assert.deepEqual(a, []);
    parsePath(Uint8Array.from([0x91, 9, 0x41]), a);
    assert.deepEqual(a, ['truncated_path']);
  });
});

describe('CIP messages and the events they map to', () => {
  test('Unconnected Send carries a routed Get_Attribute_Single; its reply is named after the inner path', () => {
    const inner = cipRequest(0x0e, logicalPath(0xf5, 1, 5));
    const routed = cipRequest(0x52, logicalPath(6, 1), [
      0x0a,
      0xf0,
      ...le16(inner.length),
      ...inner,
      ...(inner.length % 2 ? [0] : []),
      1,
      0,
      0x01,
      0x00,
    ]);
    const events = run([
      ['request', sendRRData(routed, 42)],
      ['response', sendRRData(cipResponse(0x0e, 0, [10, 0, 0, 5]), 42)],
    ]);
    assert.deepEqual(
      events.map((e) => [e.action, e.fields.direction, e.fields.class, e.fields.attribute_id ?? null]),
      [
        ['cip.unconnected_send', 'request', 'connection_manager', null],
        ['cip.get_attribute_single', 'request', 'tcp_ip_interface', 5],
        ['cip.get_attribute_single', 'response', 'tcp_ip_interface', 5],
      ],
    );
    assert.equal(events[1]!.fields.parent_service, 'unconnected_send');
    assert.equal(events[2]!.kind, 'telemetry');
  });

  test('Forward_Open reports the connection ids; Reset to Identity is critical; errors are security', () => {
    const fo = cipRequest(0x54, logicalPath(6, 1), [
      0x0a,
      0xf0,
      ...le32(0x11),
      ...le32(0x22),
      ...le16(9),
      ...le16(1),
    ]);
    const events = run([
      ['request', sendRRData(fo, 1)],
      ['request', sendRRData(cipRequest(0x05, logicalPath(1, 1)), 2)],
      ['response', sendRRData(cipResponse(0x05, 0x08), 2)],
    ]);
    assert.deepEqual(
      [events[0]!.action, events[0]!.fields.ot_connection_id, events[0]!.fields.to_connection_id],
      ['cip.forward_open', 0x11, 0x22],
    );
    assert.deepEqual([events[1]!.action, events[1]!.severity, events[1]!.kind], ['cip.reset', 2, 'security']);
    assert.deepEqual(
      [events[2]!.action, events[2]!.fields.status, events[2]!.fields.class, events[2]!.kind],
      ['cip.reset', 'service_not_supported', 'identity', 'security'],
    );
  });

  test('Logix tag services on symbolic paths; non-volatile storage writes are critical', () => {
    const tag = [0x91, 4, ...Buffer.from('Pump')];
    const events = run([
      ['request', sendUnitData(cipRequest(0x4d, tag, [0xc4, 0, 1, 0, 1, 0, 0, 0]), 5, 1)],
      ['request', sendRRData(cipRequest(0x4b, logicalPath(0xa1, 1), [1, 2, 3]), 3)],
    ]);
    assert.deepEqual(
      [events[0]!.action, events[0]!.fields.symbol, events[0]!.kind],
      ['cip.write_tag', 'Pump', 'security'],
    );
    assert.deepEqual(
      [events[1]!.action, events[1]!.fields.class, events[1]!.severity],
      ['cip.service_0x4b', 'non_volatile_storage', 2],
    );
  });

  test('two connections on one session: replies pair by connection once Forward_Open named both ids', () => {
    const open = (ot: number, to: number, context: number): Array<[EnipDirection, Uint8Array]> => [
      [
        'request',
        sendRRData(cipRequest(0x54, logicalPath(6, 1), [0x0a, 0xf0, ...le32(0), ...le32(0)]), context),
      ],
      [
        'response',
        sendRRData(cipResponse(0x54, 0, [...le32(ot), ...le32(to), ...Array(18).fill(0)]), context),
      ],
    ];
    const events = run([
      ...open(0x1001, 0x2001, 1),
      ...open(0x1002, 0x2002, 2),
      // Both connections send sequence count 1 at once; the replies come back in reverse order.
      ['request', sendUnitData(cipRequest(0x0e, logicalPath(1, 1, 7)), 0x1001, 1)],
      ['request', sendUnitData(cipRequest(0x0e, logicalPath(0xf5, 1, 5)), 0x1002, 1)],
      ['response', sendUnitData(cipResponse(0x0e, 0, [4, 0x41, 0x42, 0x43, 0x44]), 0x2002, 1)],
      ['response', sendUnitData(cipResponse(0x0e, 0, [4, 0x50, 0x4c, 0x43, 0x31]), 0x2001, 1)],
    ]);
    const gets = events.filter((e) => e.action === 'cip.get_attribute_single');
    assert.deepEqual(
      gets.map((e) => [e.fields.direction, e.fields.connection_id, e.fields.class, e.fields.anomalies ?? []]),
      [
        ['request', 0x1001, 'identity', []],
        ['request', 0x1002, 'tcp_ip_interface', []],
        ['response', 0x2002, 'tcp_ip_interface', []],
        ['response', 0x2001, 'identity', []],
      ],
    );
  });

  test('a reply nobody asked for is an anomaly; a request reused while open too', () => {
    const events = run([
      ['response', sendUnitData(cipResponse(0x10), 9, 77)],
      ['request', sendUnitData(cipRequest(0x10, logicalPath(1, 1, 7), [1]), 9, 5)],
      ['request', sendUnitData(cipRequest(0x10, logicalPath(1, 1, 7), [1]), 9, 5)],
    ]);
    assert.deepEqual(
      events.map((e) => e.fields.anomalies),
      [['unmatched_response'], undefined, ['duplicate_request']],
    );
    assert.ok(events[0]!.tags.includes('anomaly'));
  });

  test('List Identity over UDP: the device describes itself', () => {
    const name = Buffer.from('1769-L33ER');
    const item = [
      ...le16(1),
      0,
      2,
      0xaf,
      0x12,
      10,
      0,
      0,
      5,
      ...Array(8).fill(0),
      ...le16(1),
      ...le16(14),
      ...le16(103),
      30,
      11,
      ...le16(0x30),
      ...le32(0xc0ffee),
      name.length,
      ...name,
      3,
    ];
    const r = decodeEncap(encap(0x63, [...le16(1), ...le16(0x0c), ...le16(item.length), ...item], 0));
    assert.ok(r.ok);
    const [event] = enipToEvents(r.value, 'response', CTX);
    const id = event!.fields.identity as Record<string, unknown>;
    assert.deepEqual(
      [
        id.device_type_name,
        id.product_name,
        id.serial_number,
        id.revision,
        id.socket_address,
        id.socket_port,
      ],
      ['programmable_logic_controller', '1769-L33ER', '0x00c0ffee', '30.11', '10.0.0.5', 44818],
    );
    assert.equal(event!.device?.name, '1769-L33ER');
  });

  test('attacker-controlled counts are capped: CPF items, services per packet, nesting', () => {
    const items = Array.from({ length: 17 }, () => [0, 0, 0, 0]).flat();
    const many = decodeEncap(encap(0x6f, [...le32(0), ...le16(0), ...le16(17), ...items]));
    assert.ok(!many.ok && many.error.code === 'too_many_items');
    const get = cipRequest(0x0e, logicalPath(1, 1, 1));
    const msp = decodeCip(
      Uint8Array.from(cipRequest(0x0a, logicalPath(2, 1), mspData(Array(300).fill(get)))),
    );
    assert.ok(msp.ok);
    assert.equal(msp.value.embedded?.length, 256);
    assert.ok(msp.value.anomalies.includes('too_many_services'));
    let nested = get;
    for (let i = 0; i < 6; i++) nested = cipRequest(0x0a, logicalPath(2, 1), mspData([nested]));
    const deep = decodeCip(Uint8Array.from(nested));
    assert.ok(deep.ok);
    let depth = 0;
    for (let m = deep.value; m.embedded?.[0]; m = m.embedded[0]) depth++;
    assert.equal(depth, 4);
  });

  test('damage is a typed error, never a throw', () => {
    assert.deepEqual(decodeCip(Uint8Array.from([0x0e, 5, 0x20])), {
      ok: false,
      error: { code: 'invalid_path', message: 'path of 10 bytes overruns a 3-byte message' },
    });
    const r = decodeEncap(encap(0x99, []));
    assert.ok(!r.ok && r.error.code === 'unknown_command');
    const cut = sendRRData(cipRequest(0x0e, logicalPath(1, 1, 1)));
    const bad = decodeEncap(cut.subarray(0, cut.length - 1));
    assert.ok(!bad.ok && bad.error.code === 'invalid_length');
  });
});
