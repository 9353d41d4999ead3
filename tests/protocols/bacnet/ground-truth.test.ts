/**
 * The BACnet codec against other tools' reading of real captures (../shared/data/bacnet/icsnpp):
 * per frame against tshark 4.0.17's field dump (BVLC function, NPDU control, message type and
 * networks, APDU type, segmentation, sequence number, invoke id, service, object identifiers,
 * first property, error, reject and abort codes), per APDU against ICSNPP's Zeek `bacnet.log`
 * (sender, receiver, BVLC function, PDU type, service, invoke id, result code), and the fields
 * ICSNPP logs for device control and discovery. The counts are the measured agreement, exact, so
 * a regression fails.
 *
 * Measured: every frame and every APDU agrees. What it took, so the agreement is not an accident:
 * - bacnet_example.pcap frames 572–811 (the 240 reinitializeDevice exchanges) carry BVLC length 17
 *   whatever the datagram's size; tshark and Zeek decode them anyway, and so does the codec, with
 *   the anomaly `bvlc_length_mismatch` on the frame.
 * - tshark reports an I-Am-Router-To-Network's network list in `bacnet.dnet` (services frames
 *   274–278, one of them over 802.2 LLC), compared with the codec's `npdu.networks`.
 * - tshark decodes the parameters of a segmented APDU on its last segment (services frame 281, a
 *   readPropertyMultiple-ACK in 2 segments whose results carry property-access errors): compared
 *   with the session's reassembled message there.
 * - error_reject_abort frames 9 and 10 (addListElement, removeListElement) are malformed to tshark
 *   (its CSV flags `_ws.malformed`), yet well formed by clause 15.1.1 ([0] object, [1] property
 *   102, [3] one Real): the codec decodes them without an anomaly, and every compared field agrees.
 * - tshark lists every object identifier and property of an APDU: the first of each is compared
 *   (the event's `object` and `property`), and so is the whole object list up to the codec's cap of
 *   16 (segmented_data frame 18 has 427 identifiers, services frames 275 and 281 have 32).
 * - ICSNPP's `bacnet_property.log` is compared for readProperty requests (object, property, array
 *   index); its ACK rows (one row per value, in Zeek's own value formatting) are not.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  createBacnetSession,
  ENABLE_DISABLE,
  nameOf,
  objectTypeName,
  propertyName,
  REINITIALIZE_STATES,
} from '../../../protocols/bacnet/index.ts';
import { sharedData } from '../../support/env.ts';
import { parseCsv } from '../../support/csv.ts';
import { differences, ourFields, theirFields } from './compare.ts';
import { readTrace } from './trace.ts';
import { agreeMultiset, messageKey, readZeekRows } from './zeek.ts';

interface Expect {
  trace: string;
  zeek: string;
  frames: number;
  llc: number;
  apdus: number;
}

/** Measured with this codec; frames = tshark's CSV rows, apdus = Zeek's bacnet.log rows. */
const TRACES: Expect[] = [
  { trace: 'bacnet_error_reject_abort', zeek: 'error-reject-abort', frames: 45, llc: 0, apdus: 45 },
  { trace: 'bacnet_example', zeek: 'basic', frames: 3257, llc: 0, apdus: 3257 },
  // 20 frames, 18 rows: the 3 segments of the object-list ComplexACK are one APDU.
  { trace: 'bacnet_segmented_data', zeek: 'segmented_data', frames: 20, llc: 0, apdus: 18 },
  // 7,158 frames: 109 over 802.2 LLC (Zeek sees only IP), and 1 segment left for reassembly.
  { trace: 'bacnet_services', zeek: 'services', frames: 7158, llc: 109, apdus: 7048 },
];

const PORTS = new Set([47808, 47809]);

function run(file: string) {
  const session = createBacnetSession<number>();
  return readTrace(file, PORTS).map((f) => {
    const src = f.link === 'ip' ? `${f.src}:${f.srcPort}` : 'llc-src';
    const dst = f.link === 'ip' ? `${f.dst}:${f.dstPort}` : 'llc-dst';
    const result =
      f.link === 'ip'
        ? session.decodeDatagram(f.payload, src, dst, f.number)
        : session.decodeLlc(f.payload, src, dst, f.number);
    return { f, src, dst, result };
  });
}

describe('BACnet against tshark and Zeek (ICSNPP traces)', () => {
  for (const e of TRACES) {
    it(`${e.trace}: every frame as tshark reads it`, (t) => {
      const pcap = sharedData(t, 'bacnet', 'icsnpp', `${e.trace}.pcap`);
      const csv = sharedData(t, 'bacnet', 'icsnpp', 'expected-tshark', `${e.trace}.bacnet.csv`);
      if (!pcap || !csv) return;
      const rows = new Map(parseCsv(readFileSync(csv, 'utf8')).map((r) => [Number(r['frame.number']), r]));
      assert.equal(rows.size, e.frames);
      const decoded = run(pcap);
      assert.equal(decoded.length, e.frames, 'the codec finds the frames tshark finds');
      assert.equal(decoded.filter((d) => d.f.link === 'llc').length, e.llc);
      let agree = 0;
      const problems: string[] = [];
      for (const { f, result } of decoded) {
        const row = rows.get(f.number);
        if (!row) problems.push(`frame ${f.number}: not BACnet to tshark`);
        else if (!result.ok) problems.push(`frame ${f.number}: ${result.error.code} ${result.error.message}`);
        else {
          const d = differences(ourFields(result.frame, result.message), theirFields(row));
          if (d.length === 0) agree++;
          else problems.push(`frame ${f.number}: ${d.join('; ')}`);
        }
      }
      assert.deepEqual(problems.slice(0, 10), []);
      assert.equal(agree, e.frames);
    });

    it(`${e.trace}: every APDU as Zeek/ICSNPP logs it`, (t) => {
      const pcap = sharedData(t, 'bacnet', 'icsnpp', `${e.trace}.pcap`);
      const log = sharedData(t, 'bacnet', 'icsnpp', 'expected', e.zeek, 'bacnet.log');
      if (!pcap || !log) return;
      const keys = run(pcap)
        .filter((d) => d.f.link === 'ip' && d.result.ok && d.result.message)
        .map((d) => messageKey(d.result.ok ? d.result.message! : (undefined as never), d.src, d.dst));
      const zeek = readZeekRows(log);
      assert.equal(zeek.length, e.apdus);
      const r = agreeMultiset(keys, zeek);
      assert.deepEqual(
        { onlyOurs: r.onlyOurs.slice(0, 5), onlyZeek: r.onlyZeek.slice(0, 5) },
        { onlyOurs: [], onlyZeek: [] },
      );
      assert.equal(r.agree, e.apdus);
    });
  }

  it('every answer pairs with its request, except where the trace has no request to pair', (t) => {
    // error_reject_abort is synthetic: every frame goes 10.10.10.10:47809 → 192.168.3.100:47808,
    // so its Error, Reject and Abort (frames 43–45) travel the way requests do and answer nothing.
    const expected: Record<string, { answers: number; paired: number }> = {
      bacnet_error_reject_abort: { answers: 3, paired: 0 },
      bacnet_example: { answers: 1520, paired: 1520 },
      bacnet_segmented_data: { answers: 2, paired: 2 },
      bacnet_services: { answers: 3410, paired: 3410 },
    };
    for (const [trace, want] of Object.entries(expected)) {
      const pcap = sharedData(t, 'bacnet', 'icsnpp', `${trace}.pcap`);
      if (!pcap) return;
      let answers = 0;
      let paired = 0;
      for (const { result } of run(pcap)) {
        const a = result.ok ? result.message?.frame.apdu : undefined;
        if (!a || a.type < 2 || a.type === 4) continue;
        answers++;
        if (result.ok && result.message?.request) paired++;
      }
      assert.deepEqual({ answers, paired }, want, trace);
    }
  });

  it('readProperty requests as ICSNPP property logs them (invoke id, object, property, index)', (t) => {
    // Zeek names properties with hyphens, `number-of-APDU-retries` in capitals, proprietary ones
    // `Vendor Specific (512)`, and property 24 `daylights-savings-status` (sic): the one row of
    // bacnet_services (invoke id 161) that disagrees, a spelling and not a decoding difference.
    const expected: Record<string, [string, number, number]> = {
      bacnet_error_reject_abort: ['error-reject-abort', 1, 1],
      bacnet_example: ['basic', 1400, 1400],
      bacnet_segmented_data: ['segmented_data', 2, 2],
      bacnet_services: ['services', 3265, 3264],
    };
    const zname = (s: string) => s.replace(/^Vendor Specific \((\d+)\)$/, 'proprietary-$1').toLowerCase();
    for (const [trace, [dir, rows, agreeing]] of Object.entries(expected)) {
      const pcap = sharedData(t, 'bacnet', 'icsnpp', `${trace}.pcap`);
      const log = sharedData(t, 'bacnet', 'icsnpp', 'expected', dir, 'bacnet_property.log');
      if (!pcap || !log) return;
      const zeek = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split('\t').slice(11))
        .filter((c) => c[1] === 'read-property-request')
        .map(([id, , type, instance, property, index]) =>
          [id, type, instance, zname(property!), index].join(' '),
        );
      const ours: string[] = [];
      for (const { result } of run(pcap)) {
        const a = result.ok ? result.message?.frame.apdu : undefined;
        const p = a?.params;
        if (a?.type !== 0 || a.serviceChoice !== 12 || !p?.object || p.property === undefined) continue;
        const name = (s: string) => s.replaceAll('_', '-');
        ours.push(
          [
            a.invokeId,
            name(objectTypeName(p.object.type)),
            p.object.instance,
            name(propertyName(p.property)),
            p.arrayIndex ?? '-',
          ].join(' '),
        );
      }
      assert.equal(zeek.length, rows, trace);
      const r = agreeMultiset(ours, zeek);
      assert.equal(r.agree, agreeing, `${trace}: ${r.onlyZeek.slice(0, 3).join('; ')}`);
    }
  });

  it('bacnet_services: device control requests and answers as ICSNPP logs them', (t) => {
    const pcap = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_services.pcap');
    const log = sharedData(t, 'bacnet', 'icsnpp', 'expected', 'services', 'bacnet_device_control.log');
    if (!pcap || !log) return;
    const zeek = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t').slice(11))
      // Zeek logs the password; the codec only says whether one was sent.
      .map(([id, service, duration, state, password, result, code]) =>
        [
          id,
          service,
          duration,
          state,
          password === '-' ? '-' : String(password !== '(empty)'),
          result,
          code,
        ].join(' '),
      );
    const ours: string[] = [];
    for (const { result } of run(pcap)) {
      const a = result.ok ? result.message?.frame.apdu : undefined;
      const service = a?.serviceChoice;
      if (!a || (service !== 17 && service !== 20) || a.type === 1) continue;
      const name = service === 17 ? 'device_communication_control' : 'reinitialize_device';
      if (a.type === 0) {
        const p = a.params ?? {};
        const state =
          service === 17
            ? nameOf(ENABLE_DISABLE, p.enableDisable ?? -1)
            : nameOf(REINITIALIZE_STATES, p.reinitializeState ?? -1);
        const duration = p.timeDurationMins === undefined ? '-' : String(p.timeDurationMins);
        ours.push(
          [a.invokeId, name, duration, state, String(p.passwordPresent === true), '-', '-'].join(' '),
        );
      } else {
        const error = a.type === 5;
        const code = error ? 'password-failure' : '-';
        if (error) assert.equal(a.params?.errorCode, 26, 'password_failure');
        ours.push([a.invokeId, name, '-', '-', '-', error ? 'ERROR' : 'SUCCESS', code].join(' '));
      }
    }
    assert.equal(zeek.length, 16);
    assert.deepEqual(ours, zeek);
  });

  it('i-Am and who-Is as ICSNPP discovery logs them (device instance, who-Is range)', (t) => {
    let compared = 0;
    for (const [trace, dir] of [
      ['bacnet_example', 'basic'],
      ['bacnet_services', 'services'],
      ['bacnet_error_reject_abort', 'error-reject-abort'],
    ] as const) {
      const pcap = sharedData(t, 'bacnet', 'icsnpp', `${trace}.pcap`);
      const log = sharedData(t, 'bacnet', 'icsnpp', 'expected', dir, 'bacnet_discovery.log');
      if (!pcap || !log) return;
      const zeek = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split('\t'))
        .filter((c) => c[11] === 'i-am' || c[11] === 'who-is')
        .map((c) => (c[11] === 'i-am' ? `i-am ${c[15]}` : `who-is ${c[17]}`));
      const ours: string[] = [];
      for (const { f, result } of run(pcap)) {
        const a = result.ok && f.link === 'ip' ? result.message?.frame.apdu : undefined;
        if (a?.type !== 1) continue;
        if (a.serviceChoice === 0) ours.push(`i-am ${a.params?.deviceInstance}`);
        if (a.serviceChoice === 8) {
          const p = a.params ?? {};
          ours.push(`who-is ${p.lowLimit === undefined ? 'All' : `${p.lowLimit}-${p.highLimit}`}`);
        }
      }
      assert.deepEqual(ours, zeek, trace);
      compared += zeek.length;
    }
    // 217 in basic, 214 in services, 2 in error-reject-abort.
    assert.equal(compared, 433);
  });
});
