/**
 * Real DNP3 traffic through our pcap reader, incremental TCP reassembly and DNP3 session, against
 * ground truth we did not write: tshark 4.0.17's per-frame field dumps (link, transport and
 * application fields, object headers with qualifier and range) and Zeek's / CISA ICSNPP's
 * per-transaction logs (dnp3.log, and for ICSNPP every CROB in dnp3_control.log and every object
 * header of the polls in dnp3_objects.log). The agreement counts are exact, so a regression fails;
 * every disagreement is listed with its reason.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
import { dnp3ItemToEvent } from '../../../protocols/dnp3/index.ts';
import { sharedData } from '../../support/env.ts';
import { readTsharkCsv, readZeekLog } from '../syslog/traces.ts';
import { decodeDnp3Capture, zeekTransactions } from './traces.ts';
import { differences, ourRows } from './tshark.ts';

interface Trace {
  dir: 'zeek' | 'icsnpp';
  name: string;
  port?: number;
  /** Frames tshark dissects, and how many of them agree with us field for field. */
  frames: number;
  agree: number;
  /** Frames that disagree, and why (checked: exactly these frames disagree). */
  disagree?: Record<number, string>;
  /** Zeek test folder with dnp3.log, and its row count (all must agree). */
  zeek?: string;
  transactions?: number;
}

const STOP_APPL_OBJECTS =
  'a STOP_APPL request carrying object headers (g60v2, g1v7, then g60v4 with the reserved qualifier 0x6d): tshark 4.0.17 dissects no objects after function 18, we list them and flag the reserved qualifier (object_error bad_qualifier)';
const WRAP =
  'the fragment ends a transport sequence that wrapped 63 → 0: tshark 4.0.17 does not reassemble it (data README), we do; Zeek/ICSNPP logs the transaction';

const TRACES: Trace[] = [
  { dir: 'zeek', name: 'dnp3_read', frames: 2, agree: 2, zeek: 'dnp3_read', transactions: 1 },
  { dir: 'zeek', name: 'dnp3_read_p20001', port: 20001, frames: 2, agree: 2 },
  { dir: 'zeek', name: 'dnp3_write', frames: 2, agree: 2, zeek: 'dnp3_write', transactions: 1 },
  {
    dir: 'zeek',
    name: 'dnp3_select_operate',
    frames: 4,
    agree: 4,
    zeek: 'dnp3_select_operate',
    transactions: 2,
  },
  { dir: 'zeek', name: 'dnp3_del_measure', frames: 2, agree: 2, zeek: 'dnp3_del_measure', transactions: 1 },
  { dir: 'zeek', name: 'dnp3_rec_time', frames: 2, agree: 2, zeek: 'dnp3_rec_time', transactions: 1 },
  { dir: 'zeek', name: 'dnp3_en_spon', frames: 2, agree: 2, zeek: 'dnp3_en_spon', transactions: 1 },
  { dir: 'zeek', name: 'dnp3_file_read', frames: 14, agree: 14, zeek: 'dnp3_file_read', transactions: 5 },
  { dir: 'zeek', name: 'dnp3_file_write', frames: 9, agree: 9, zeek: 'dnp3_file_write', transactions: 3 },
  { dir: 'zeek', name: 'dnp3_file_del', frames: 2, agree: 2, zeek: 'dnp3_file_del', transactions: 1 },
  { dir: 'zeek', name: 'dnp3_link_only', frames: 23, agree: 23 },
  { dir: 'zeek', name: 'dnp3_udp_read', frames: 23, agree: 23, zeek: 'dnp3_udp_read', transactions: 2 },
  { dir: 'zeek', name: 'dnp3_udp_write', frames: 2, agree: 2, zeek: 'dnp3_udp_write', transactions: 1 },
  {
    dir: 'zeek',
    name: 'dnp3_udp_select_operate',
    frames: 10,
    agree: 10,
    zeek: 'dnp3_udp_select_operate',
    transactions: 3,
  },
  { dir: 'zeek', name: 'dnp3_udp_en_spon', frames: 4, agree: 4, zeek: 'dnp3_udp_en_spon', transactions: 1 },
  { dir: 'zeek', name: 'dnp3-flowbuffer-overflow-assert', frames: 4, agree: 4 },
  {
    dir: 'zeek',
    name: 'dnp3',
    frames: 115,
    agree: 111,
    disagree: {
      163: STOP_APPL_OBJECTS,
      166: STOP_APPL_OBJECTS,
      174: STOP_APPL_OBJECTS,
      176: STOP_APPL_OBJECTS,
    },
    zeek: 'events',
    transactions: 66,
  },
  {
    dir: 'icsnpp',
    name: 'dnp3_example',
    frames: 834,
    agree: 829,
    disagree: {
      18: WRAP,
      114: WRAP,
      210: WRAP,
      810: WRAP,
      311: 'a one-segment response (transport seq 0 right after 63): tshark 4.0.17 shows its AL fields as zeros; we read RESPONSE seq 8 with one g12v1 CROB, which ICSNPP logs too',
    },
    zeek: 'basic',
    transactions: 368,
  },
];

const pcapPath = (t: Trace) => [`dnp3`, t.dir, `${t.name}.pcap`];

describe('DNP3 captures against tshark, per frame', () => {
  for (const t of TRACES) {
    test(`${t.dir}/${t.name}: ${t.agree} of ${t.frames} frames agree`, (ctx) => {
      const pcap = sharedData(ctx, ...pcapPath(t));
      const csv = sharedData(ctx, 'dnp3', t.dir, 'expected-tshark', `${t.name}.dnp3.csv`);
      if (!pcap || !csv) return;
      const items = decodeDnp3Capture(pcap, [t.port ?? 20000]);
      const ours = ourRows(items);
      const rows = readTsharkCsv(csv);
      assert.equal(rows.length, t.frames);
      const disagreeing: number[] = [];
      for (const row of rows) {
        const frame = Number(row['frame.number']);
        const diff = differences(ours.get(frame), row);
        if (diff.length > 0) disagreeing.push(frame);
        if (diff.length > 0 && !t.disagree?.[frame]) assert.fail(`frame ${frame}: ${diff.join('; ')}`);
      }
      assert.deepEqual(
        disagreeing,
        Object.keys(t.disagree ?? {})
          .map(Number)
          .sort((a, b) => a - b),
      );
      assert.equal(rows.length - disagreeing.length, t.agree);
      // Every item maps to a valid Event.
      for (const { item } of items) {
        const e = dnp3ItemToEvent(item, { received: new Date(0), transport: 'tcp' });
        if (e) assert.ok(parseEvent({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 }).ok);
      }
    });
  }

  test('dnp3.pcap: frames 19 and 21 start 05 05 and are refused as bad_start, the only errors', (ctx) => {
    const pcap = sharedData(ctx, 'dnp3', 'zeek', 'dnp3.pcap');
    if (!pcap) return;
    const errors = decodeDnp3Capture(pcap).flatMap(({ item }) =>
      item.type === 'error' ? [`${item.meta.frame}:${item.error.code}`] : [],
    );
    assert.deepEqual(errors, ['19:bad_start', '21:bad_start']);
  });
});

const norm = (a: string, b: string) => [a, b].sort().join('|');

describe('DNP3 captures against Zeek / ICSNPP dnp3.log, per transaction', () => {
  for (const t of TRACES.filter((x) => x.zeek)) {
    test(`${t.dir}/${t.name}: ${t.transactions} transactions agree`, (ctx) => {
      const pcap = sharedData(ctx, ...pcapPath(t));
      const log = sharedData(ctx, 'dnp3', t.dir, 'expected', t.zeek!, 'dnp3.log');
      if (!pcap || !log) return;
      const ours = new Map<string, string[]>();
      for (const r of zeekTransactions(decodeDnp3Capture(pcap))) {
        const [a, b] = r.conn.split('>');
        const k = norm(a!, b!);
        ours.set(k, [...(ours.get(k) ?? []), `${r.fc_request} ${r.fc_reply} ${r.iin}`]);
      }
      const theirs = new Map<string, string[]>();
      const rows = readZeekLog(log);
      for (const r of rows) {
        const k = norm(`${r['id.orig_h']}:${r['id.orig_p']}`, `${r['id.resp_h']}:${r['id.resp_p']}`);
        theirs.set(k, [...(theirs.get(k) ?? []), `${r.fc_request} ${r.fc_reply} ${r.iin}`]);
      }
      assert.equal(rows.length, t.transactions);
      assert.deepEqual(ours, theirs);
    });
  }
});

/** ICSNPP's names for the trip-close codes and operation types (icsnpp-dnp3 consts.zeek). */
const TCC: Record<number, string> = { 0: 'Nul', 1: 'Close', 2: 'Trip' };
const OP: Record<number, string> = { 0: 'Nul', 1: 'Pulse On', 2: 'Pulse Off', 3: 'Latch On', 4: 'Latch Off' };
const ZEEK_FC: Record<number, string> = { 1: 'READ', 3: 'SELECT', 4: 'OPERATE', 129: 'RESPONSE' };
const OBJECT_NAMES: Record<string, string> = {
  g60v1: 'Class 0 Data',
  g60v2: 'Class 1 Data',
  g60v3: 'Class 2 Data',
  g60v4: 'Class 3 Data',
  g1v2: 'Binary Input With Status',
  g10v2: 'Binary Output Status',
  g30v2: '16-Bit Analog Input',
  g40v2: '16-Bit Analog Output Status',
};

describe('ICSNPP dnp3_example: controls and polled objects', () => {
  test('534 CROBs of dnp3_control.log agree field for field', (ctx) => {
    const pcap = sharedData(ctx, 'dnp3', 'icsnpp', 'dnp3_example.pcap');
    const log = sharedData(ctx, 'dnp3', 'icsnpp', 'expected', 'basic', 'dnp3_control.log');
    if (!pcap || !log) return;
    const ours: string[] = [];
    for (const { item } of decodeDnp3Capture(pcap)) {
      if (item.type !== 'apdu') continue;
      for (const o of item.apdu.objects) {
        if (o.group !== 12 || o.variation !== 1) continue;
        for (const p of o.points) {
          const c = p.crob!;
          const status =
            item.apdu.direction === 'response' ? (c.status === 0 ? 'Success' : String(c.status)) : '-';
          ours.push(
            [
              ZEEK_FC[item.apdu.function],
              p.index,
              TCC[c.tcc],
              OP[c.opType],
              c.clear ? 'T' : 'F',
              c.count,
              c.onTimeMs,
              c.offTimeMs,
              status,
            ].join(' '),
          );
        }
      }
    }
    const theirs = readZeekLog(log).map((r) =>
      [
        r.function_code,
        r.index_number,
        r.trip_control_code,
        r.operation_type,
        r.clear_bit,
        r.execute_count,
        r.on_time,
        r.off_time,
        r.status_code,
      ].join(' '),
    );
    assert.equal(theirs.length, 534);
    assert.deepEqual(ours, theirs);
  });

  test('503 object headers of dnp3_objects.log (READs and their responses) agree', (ctx) => {
    const pcap = sharedData(ctx, 'dnp3', 'icsnpp', 'dnp3_example.pcap');
    const log = sharedData(ctx, 'dnp3', 'icsnpp', 'expected', 'basic', 'dnp3_objects.log');
    if (!pcap || !log) return;
    const ours: string[] = [];
    for (const { item } of decodeDnp3Capture(pcap)) {
      if (item.type !== 'apdu') continue;
      const read = item.apdu.function === 1 || item.request?.apdu.function === 1;
      if (!read) continue;
      for (const o of item.apdu.objects) {
        const name = OBJECT_NAMES[`g${o.group}v${o.variation}`] ?? `g${o.group}v${o.variation}`;
        const range = o.count === undefined ? '- - -' : `${o.count} ${o.start} ${o.stop}`;
        ours.push(`${ZEEK_FC[item.apdu.function]} ${name} ${range}`);
      }
    }
    const theirs = readZeekLog(log).map(
      (r) => `${r.function_code} ${r.object_type} ${r.object_count} ${r.range_low} ${r.range_high}`,
    );
    assert.equal(theirs.length, 503);
    assert.deepEqual(ours.sort(), theirs.sort());
  });
});
