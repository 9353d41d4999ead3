/**
 * DNP3 point values for the baselines and the device dashboard (protocols/dnp3/values.ts), and the
 * content check a capture source uses to find DNP3 off port 20000: on ICSNPP's capture every
 * polled response names its binary and analog points, set points come from requests only, and
 * the p20001 trace's streams are recognised by their first bytes while other traffic is not.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { dnp3PointValues, dnp3ToEvent, decodeApdu, looksLikeDnp3 } from '../../../protocols/dnp3/index.ts';
import { decodePacket, readCapture } from '../../../protocols/pcap/index.ts';
import { sharedData } from '../../support/env.ts';
import { captureEvents, decodeDnp3Capture } from './traces.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
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

describe('DNP3 point values', () => {
  test('a set point from a DIRECT_OPERATE request; its echo and CROBs are not readings', () => {
    const r = decodeApdu(hex('C1 05 2902 28 0100 0300 FBFF 00 0C01 28 0100 0700 41 01 64000000 00000000 00'));
    assert.ok(r.ok);
    const request = dnp3ToEvent(LINK, r.apdu, { received: new Date(0), transport: 'tcp' });
    assert.deepEqual(dnp3PointValues(request), [{ name: 'analog_output[3]', value: -5 }]);
    const echo = decodeApdu(hex('C1 81 0000 2902 28 0100 0300 FBFF 00'));
    assert.ok(echo.ok);
    assert.deepEqual(
      dnp3PointValues(
        dnp3ToEvent({ ...LINK, dir: false }, echo.apdu, { received: new Date(0), transport: 'tcp' }),
      ),
      [],
    );
  });

  test("ICSNPP's polls: each class 0 response gives its 40 analog values first, then binary states", (t) => {
    const file = sharedData(t, 'dnp3', 'icsnpp', 'dnp3_example.pcap');
    if (!file) return;
    const events = captureEvents(decodeDnp3Capture(file));
    const polled = events.filter(
      (e) =>
        e.fields.request_function === 'read' &&
        e.fields.object_groups instanceof Array &&
        (e.fields.object_groups as string[]).includes('g30v2'),
    );
    assert.equal(polled.length, 97);
    for (const e of polled) {
      const values = dnp3PointValues(e);
      assert.equal(values.length, 64);
      // g30v2 indexes 0-19 and g40v2 indexes 0-19, then the first 24 binary inputs.
      assert.deepEqual(values[0]!.name, 'analog_input[0]');
      assert.deepEqual(values[39]!.name, 'analog_output[19]');
      assert.deepEqual(values[40]!.name, 'binary_input[0]');
    }
    // No request in that capture carries a value (CROBs are commands, not values).
    assert.deepEqual(events.filter((e) => e.fields.direction === 'request').flatMap(dnp3PointValues), []);
  });
});

describe('DNP3 content detection', () => {
  test('the streams of dnp3_read_p20001.pcap open as DNP3; a Modbus stream does not', (t) => {
    const file = sharedData(t, 'dnp3', 'zeek', 'dnp3_read_p20001.pcap');
    const modbus = sharedData(t, 'modbus', 'icsnpp', 'modbus_example.pcap');
    if (!file) return;
    const payloads = (f: string) =>
      readCapture(readFileSync(f)).packets.flatMap((p) => {
        const d = decodePacket(p.linkType, p.data);
        return d.ok && d.packet.proto === 'tcp' && d.packet.payload.length > 0 ? [d.packet.payload] : [];
      });
    const dnp3 = payloads(file);
    assert.equal(dnp3.length, 2);
    assert.ok(dnp3.every(looksLikeDnp3));
    if (modbus) assert.ok(!payloads(modbus).some(looksLikeDnp3));
    assert.equal(looksLikeDnp3(hex('0564 05 C0 0100 0004 E921')), true);
    assert.equal(looksLikeDnp3(hex('0564 05 C0 0100 0004 E922')), false);
  });
});
