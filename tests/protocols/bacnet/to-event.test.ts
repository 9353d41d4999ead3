/**
 * The BACnet mapping to `Event` and the session behind it: what a rule, the inventory and the
 * baselines rely on. Frames are written here from ANSI/ASHRAE 135-2020 (clause in each comment);
 * the segmented case is ICSNPP's real capture, whose object list reassembles to 426 identifiers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bacnetErrorToEvent,
  createBacnetEventStream,
  createBacnetSession,
  decodeBacnetIp,
  isBacnetPort,
  MAX_REASSEMBLY_BYTES,
} from '../../../protocols/bacnet/index.ts';
import { parseEvent } from '../../../protocols/event/schema.ts';
import { sharedData } from '../../support/env.ts';
import { readTrace } from './trace.ts';

const h = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const bip = (s: string) => {
  const b = h(s);
  b[2] = b.length >> 8;
  b[3] = b.length & 0xff;
  return b;
};
const T = new Date('2026-12-05T10:00:00Z');
const WS = { src: '10.0.0.66', srcPort: 47808, dst: '10.0.0.5', dstPort: 47808 };
const DEV = { src: '10.0.0.5', srcPort: 47808, dst: '10.0.0.66', dstPort: 47808 };
const valid = (e: object) => {
  const r = parseEvent({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });
  assert.ok(r.ok, r.ok ? '' : r.error);
};

describe('BACnet events', () => {
  it('a writeProperty request and its SimpleACK: the answer names what it answers', () => {
    const s = createBacnetEventStream();
    // writeProperty analog-value 7 present-value := 21.5 (Real), priority 8 (clause 15.9).
    const [req] = s.datagram(
      { ...WS, payload: bip('810a0000 0104 0005 2a 0f 0c00800007 1955 3e 4441ac0000 3f 4908') },
      T,
    );
    const [ack] = s.datagram({ ...DEV, payload: bip('810a0000 0100 20 2a 0f') }, T);
    assert.ok(req && ack);
    valid(req);
    valid(ack);
    assert.equal(req.action, 'bacnet.write_property');
    assert.equal(req.kind, 'security');
    assert.equal(req.device?.id, 'bacnet:10.0.0.5:47808');
    assert.deepEqual(
      {
        direction: req.fields.direction,
        object: req.fields.object,
        property: req.fields.property,
        value: req.fields.value,
        priority: req.fields.priority,
      },
      { direction: 'request', object: 'analog_value:7', property: 'present_value', value: 21.5, priority: 8 },
    );
    assert.equal(ack.action, 'bacnet.write_property');
    assert.equal(ack.fields.direction, 'response');
    assert.equal(ack.fields.object, 'analog_value:7');
    assert.equal(ack.fields.property, 'present_value');
    assert.equal(ack.fields.anomalies, undefined);
    assert.equal(ack.device?.id, 'bacnet:10.0.0.5:47808', 'the same device as its request');
  });

  it('writing out-of-service is severity 2, also as the second property of a writePropertyMultiple', () => {
    // writePropertyMultiple binary-value 2: present-value := active, out-of-service := TRUE (15.10).
    const [e] = createBacnetEventStream().datagram(
      { ...WS, payload: bip('810a0000 0104 0005 2c 10 0c01400002 1e 0955 2e9101 2f 0951 2e11 2f 1f') },
      T,
    );
    assert.equal(e?.action, 'bacnet.write_property_multiple');
    assert.deepEqual(e?.fields.properties, ['present_value', 'out_of_service']);
    assert.equal(e?.severity, 2);
    assert.equal(e?.fields.anomalies, undefined);
  });

  it('an answer nobody asked for is an anomaly', () => {
    const [ack] = createBacnetEventStream().datagram({ ...DEV, payload: bip('810a0000 0100 20 2b 0f') }, T);
    assert.deepEqual(ack?.fields.anomalies, ['unmatched_response']);
    assert.ok(ack?.tags.includes('anomaly'));
  });

  it('i-Am gives the device instance and vendor; a broadcast who-Is names no device', () => {
    const s = createBacnetEventStream();
    // i-Am device 1234, max APDU 1476, no segmentation, vendor 260 (clause 16.10.3).
    const [iam] = s.datagram(
      { ...DEV, dst: '10.0.0.255', payload: bip('810b0000 0100 1000 c4020004d2 2205c4 9103 220104') },
      T,
    );
    assert.equal(iam?.action, 'bacnet.i_am');
    assert.deepEqual(iam?.device, { id: 'bacnet:10.0.0.5:47808', protocol_id: '1234' });
    assert.equal(iam?.fields.vendor_id, 260);
    assert.equal(iam?.fields.segmentation_supported, 'no_segmentation');
    const [whoIs] = s.datagram({ ...WS, dst: '10.0.0.255', payload: bip('810b0000 0120ffff00ff 1008') }, T);
    assert.equal(whoIs?.action, 'bacnet.who_is');
    assert.equal(whoIs?.device, undefined);
    assert.equal(whoIs?.fields.broadcast, true);
  });

  it('reinitializeDevice: state and whether a password was sent, never the password', () => {
    const [e] = createBacnetEventStream().datagram(
      { ...WS, payload: bip('810a0000 0104 0005 07 14 0901 1d08 00 73656372657431') },
      T,
    );
    assert.equal(e?.action, 'bacnet.reinitialize_device');
    assert.equal(e?.severity, 2);
    assert.equal(e?.fields.reinitialize_state, 'warmstart');
    assert.equal(e?.fields.password_present, true);
    assert.ok(!JSON.stringify(e).includes('secret'), 'the password is not in the event');
  });

  it('Register-Foreign-Device and a malformed datagram', () => {
    const s = createBacnetEventStream();
    const [fd] = s.datagram({ ...WS, payload: h('81050006 0e10') }, T);
    assert.equal(fd?.action, 'bacnet.register_foreign_device');
    assert.equal(fd?.fields.ttl_secs, 3600);
    assert.equal(fd?.kind, 'security');
    const [bad] = s.datagram({ ...WS, payload: h('810a0007 0204 00') }, T);
    assert.equal(bad?.action, 'bacnet.malformed');
    assert.equal(bad?.fields.code, 'unsupported_npdu_version');
    valid(bad!);
    const err = decodeBacnetIp(h('8100'));
    assert.ok(!err.ok);
    valid(bacnetErrorToEvent(err.error, h('8100'), { received: T }));
  });

  it('ports: 47808 to 47823 are BACnet/IP', () => {
    assert.deepEqual([47807, 47808, 47823, 47824].map(isBacnetPort), [false, true, true, false]);
  });

  it('segments out of order are dropped and said; an oversize transfer is cut at its cap', () => {
    const s = createBacnetSession<number>();
    // ComplexACK segments (clause 20.1.5): seq 0 with more-follows, then seq 2 (1 is missing).
    const seg = (seq: number, more: boolean, body = '0c0200000819 4c') =>
      bip(`810a0000 0100 ${more ? '3c' : '38'} 05 ${seq.toString(16).padStart(2, '0')} 04 0c ${body}`);
    assert.equal(s.decodeDatagram(seg(0, true), 'a:1', 'b:1', 0).ok, true);
    const gap = s.decodeDatagram(seg(2, false), 'a:1', 'b:1', 0);
    assert.ok(gap.ok);
    assert.deepEqual(gap.message?.anomalies, ['segment_out_of_order']);
    assert.equal(s.open().reassemblies, 0);
    // 1,400-byte segments until the cap.
    const big = '00'.repeat(1400);
    let cut: string[] | undefined;
    for (let i = 0; i < 300 && !cut; i++) {
      const r = s.decodeDatagram(seg(i & 0xff, true, big), 'a:1', 'b:1', i);
      if (r.ok && r.message) cut = r.message.anomalies;
    }
    assert.deepEqual(cut, ['reassembly_too_large']);
    assert.ok(MAX_REASSEMBLY_BYTES >= 256 * 1476, 'a legitimate 256-segment APDU fits');
  });

  // The data README says 427: ICSNPP's property log has 427 object-list rows, one of them the
  // array length (invoke id 93, index 0, value 426) read before the list itself (invoke id 94).
  it('bacnet_segmented_data: the object list in 3 segments reassembles to its 426 object identifiers', (t) => {
    const file = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_segmented_data.pcap');
    if (!file) return;
    const s = createBacnetEventStream();
    const events = readTrace(file).flatMap((f) =>
      s.datagram(
        { src: f.src!, srcPort: f.srcPort!, dst: f.dst!, dstPort: f.dstPort!, payload: f.payload },
        f.ts,
      ),
    );
    const list = events.find((e) => e.action === 'bacnet.read_property' && e.fields.segments === 3);
    assert.ok(list, 'one readProperty answer in 3 segments');
    assert.equal(list.fields.property, 'object_list');
    assert.equal(list.fields.value_count, 426);
    const length = events.find(
      (e) =>
        e.action === 'bacnet.read_property' && e.fields.array_index === 0 && e.fields.value !== undefined,
    );
    assert.equal(length?.fields.value, 426, 'the array length read first agrees');
    assert.equal((list.fields.values as unknown[]).length, 16, 'values are capped');
    assert.equal(list.fields.anomalies, undefined);
    assert.equal(s.open().reassemblies, 0);
  });
});
