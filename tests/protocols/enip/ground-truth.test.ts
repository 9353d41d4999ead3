/**
 * The EtherNet/IP + CIP codec against third-party ground truth (../shared/data/enip/icsnpp, CISA
 * icsnpp-enip's test traces): per frame against tshark 4.0.17's field dump, per transaction
 * against the Zeek/ICSNPP logs. The traces are read the way a capture source would read them
 * (trace.ts: the project's pcap/pcapng reader, TCP reassembly, one session per connection).
 *
 * Measured agreement (asserted exactly below, so a regression fails):
 * - enip_cip_example.pcap (776 frames; 667 EtherNet/IP frames: 267 SendUnitData, 2 List Identity,
 *   398 implicit I/O on UDP 2222): tshark 667/667 frames; enip.log 269/269; cip.log 1158/1158
 *   (MSP and the 11 Get_Attribute_List inside each, pairs included); cip_io.log 398/398;
 *   cip_identity.log 1/1 (1756-ENBT/A, Rockwell, serial 0x00524d8e). The other 109 frames are
 *   STP, ARP, LLDP and TCP without payload: neither tshark nor Zeek lists them.
 * - multiple_service_packet_cip.pcapng (1 frame): tshark 1/1; enip.log 1/1; cip.log 12/12.
 * - set_attribute_single_service_cip.pcapng (1 frame, 802.1Q-tagged): tshark 1/1; enip.log
 *   1/1; cip.log 1/1 (Set_Attribute_Single to Identity class, instance 0).
 * No disagreements. What is not compared, and why: tshark's `cip.attribute` on replies (tshark
 * reads attribute ids out of Get_Attribute_List reply data using per-class attribute sizes we
 * do not carry; we report the ids the request named), `cip.symbol` (no symbolic path in these
 * traces; covered by codec.test.ts), and Zeek's status text beyond "Success".
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
import { sharedData } from '../../support/env.ts';
import {
  type Agreement,
  compareCipLog,
  compareEnipLog,
  compareIdentityLog,
  compareIoLog,
  compareTshark,
} from './ground-truth.ts';
import { readEnipTrace, type Trace } from './trace.ts';

const DIR = ['enip', 'icsnpp'];

function expectAgreement(a: Agreement, agree: number, total: number, what: string): void {
  assert.deepEqual(
    { agree: a.agree, total: a.total },
    { agree, total },
    `${what}: ${a.diffs.slice(0, 10).join('\n')}`,
  );
}

function load(t: Parameters<typeof sharedData>[0], file: string): Trace | undefined {
  const path = sharedData(t, ...DIR, file);
  return path ? readEnipTrace(path) : undefined;
}

describe('EtherNet/IP ground truth (icsnpp-enip traces)', () => {
  test('enip_cip_example.pcap: every frame and transaction agrees with tshark and Zeek', (t) => {
    const trace = load(t, 'enip_cip_example.pcap');
    if (!trace) return;
    const f = (...p: string[]) => sharedData(t, ...DIR, ...p)!;
    assert.equal(trace.frames, 776);
    assert.equal(trace.decodes.length, 667);
    assert.equal(trace.framingErrors, 0);
    expectAgreement(
      compareTshark(trace, f('expected-tshark', 'enip_cip_example.enip.csv')),
      667,
      667,
      'tshark',
    );
    expectAgreement(compareEnipLog(trace, f('expected', 'basic', 'enip.log')), 269, 269, 'enip.log');
    expectAgreement(compareCipLog(trace, f('expected', 'basic', 'cip.log')), 1158, 1158, 'cip.log');
    expectAgreement(compareIoLog(trace, f('expected', 'basic', 'cip_io.log')), 398, 398, 'cip_io.log');
    expectAgreement(
      compareIdentityLog(trace, f('expected', 'basic', 'cip_identity.log')),
      1,
      1,
      'cip_identity.log',
    );

    // Every reply found its request: 133 SendUnitData replies and the List Identity reply.
    const replies = trace.decodes.filter((d) => d.transport === 'tcp' && d.direction === 'response');
    assert.equal(replies.length, 134);
    assert.equal(replies.filter((d) => d.request).length, 134);
    // The one request without a reply is the capture's last Multiple Service Packet.
    const events = trace.events;
    assert.ok(events.every((e) => parseEvent({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 }).ok));
    const count = (action: string) => events.filter((e) => e.action === action).length;
    assert.deepEqual(
      [
        count('cip.multiple_service_packet'),
        count('cip.get_attribute_list'),
        count('cip.set_attribute_list'),
      ],
      [81, 1075, 2],
    );
    assert.deepEqual([count('enip.list_identity'), count('cip.io'), count('enip.malformed')], [2, 398, 0]);
    const identity = events.find(
      (e) => e.action === 'enip.list_identity' && e.fields.direction === 'response',
    );
    assert.equal(identity?.device?.name, '1756-ENBT/A');
    assert.deepEqual(
      [identity?.fields.identity as Record<string, unknown>].map((i) => [
        i.vendor,
        i.serial_number,
        i.product_code,
      ]),
      [['Rockwell Automation/Allen-Bradley', '0x00524d8e', 58]],
    );
    // A reply names the class and instance of the request it answers (replies carry no path).
    const reply = events.find(
      (e) => e.action === 'cip.set_attribute_list' && e.fields.direction === 'response',
    );
    assert.deepEqual(
      [reply?.fields.class_id, reply?.fields.instance_id, reply?.fields.status],
      [0x8b, 1, 'success'],
    );
  });

  test('multiple_service_packet_cip.pcapng: the packet and its 11 services', (t) => {
    const trace = load(t, 'multiple_service_packet_cip.pcapng');
    if (!trace) return;
    const f = (...p: string[]) => sharedData(t, ...DIR, ...p)!;
    expectAgreement(
      compareTshark(trace, f('expected-tshark', 'multiple_service_packet_cip.enip.csv')),
      1,
      1,
      'tshark',
    );
    expectAgreement(
      compareEnipLog(trace, f('expected', 'multiple_service_request', 'enip.log')),
      1,
      1,
      'enip.log',
    );
    expectAgreement(
      compareCipLog(trace, f('expected', 'multiple_service_request', 'cip.log')),
      12,
      12,
      'cip.log',
    );
    assert.equal(trace.events.filter((e) => e.fields.embedded === true).length, 11);
  });

  test('set_attribute_single_service_cip.pcapng: Set_Attribute_Single to the Identity class', (t) => {
    const trace = load(t, 'set_attribute_single_service_cip.pcapng');
    if (!trace) return;
    const f = (...p: string[]) => sharedData(t, ...DIR, ...p)!;
    expectAgreement(
      compareTshark(trace, f('expected-tshark', 'set_attribute_single_service_cip.enip.csv')),
      1,
      1,
      'tshark',
    );
    expectAgreement(
      compareEnipLog(trace, f('expected', 'set_attr_single_service', 'enip.log')),
      1,
      1,
      'enip.log',
    );
    expectAgreement(
      compareCipLog(trace, f('expected', 'set_attr_single_service', 'cip.log')),
      1,
      1,
      'cip.log',
    );
    const [event] = trace.events;
    assert.deepEqual(
      [
        event?.action,
        event?.kind,
        event?.fields.class,
        event?.fields.instance_id,
        event?.fields.sequence_count,
      ],
      ['cip.set_attribute_single', 'security', 'identity', 0, 13],
    );
  });

  test('the comparison notices a wrong decode (it can fail)', (t) => {
    const trace = load(t, 'multiple_service_packet_cip.pcapng');
    if (!trace) return;
    const f = (...p: string[]) => sharedData(t, ...DIR, ...p)!;
    const d = trace.decodes[0]!;
    assert.ok(d.result.ok && d.result.value.cip?.embedded);
    const inner = d.result.value.cip.embedded[3]!;
    inner.path = { ...inner.path, classId: 0x42 };
    assert.equal(compareTshark(trace, f('expected-tshark', 'multiple_service_packet_cip.enip.csv')).agree, 0);
    assert.equal(compareCipLog(trace, f('expected', 'multiple_service_request', 'cip.log')).agree, 11);
  });
});
