/**
 * Compares what the EtherNet/IP codec decoded from a trace with the ground truth of
 * ../shared/data/enip/icsnpp: tshark 4.0.17's field dump per frame (expected-tshark/*.enip.csv)
 * and CISA icsnpp-enip's Zeek logs per transaction (expected/<test>/{enip,cip,cip_io,
 * cip_identity}.log, tab-separated, no header: the upstream tests cut `packet_correlation_id`).
 * Returns agreement counts and the disagreements, so a test can assert exact numbers and print
 * what differs.
 */
import { readFileSync } from 'node:fs';
import { type CipMessage, type EnipPdu } from '../../../protocols/enip/index.ts';
import { parseCsv } from '../../support/csv.ts';
import type { Trace, TraceDecode } from './trace.ts';

const h = (n: number, width: number) => `0x${n.toString(16).padStart(width, '0')}`;

export interface Agreement {
  total: number;
  agree: number;
  /** One line per disagreement: where, expected, got. */
  diffs: string[];
}

/** The CIP messages of a decode with, for replies, the request message each one answers. */
function messages(d: TraceDecode): Array<{ msg: CipMessage; req?: CipMessage }> {
  if (!d.result.ok || !d.result.value.cip) return [];
  const top = d.result.value.cip;
  const out: Array<{ msg: CipMessage; req?: CipMessage }> = [];
  const walk = (msg: CipMessage, req: CipMessage | undefined) => {
    out.push(req ? { msg, req } : { msg });
    msg.embedded?.forEach((m, i) => walk(m, req?.embedded?.[i]));
  };
  const reqTop = d.request?.pdu.cip;
  walk(top, reqTop && reqTop.service === top.service ? reqTop : undefined);
  return out;
}

/** tshark's fields, as our decode would print them (multi-valued cells: comma lists). */
function tsharkView(d: TraceDecode): Record<string, string> {
  const v: Record<string, string> = {};
  if (!d.result.ok) return v;
  const pdu: EnipPdu = d.result.value;
  if (pdu.header) {
    v['enip.command'] = h(pdu.header.command, 4);
    v['enip.length'] = String(pdu.header.length);
    v['enip.session'] = h(pdu.header.sessionHandle, 8);
    v['enip.status'] = h(pdu.header.status, 8);
    if (pdu.connectionId !== undefined) v['enip.cpf.cai.connid'] = h(pdu.connectionId, 8);
  } else {
    v['enip.cpf.sai.connid'] = h(pdu.connectionId ?? 0, 8);
    v['enip.cpf.sai.seq'] = String(pdu.ioSequence);
  }
  v['enip.cpf.typeid'] = pdu.items.map((i) => h(i.typeId, 4)).join(',');
  const ms = messages(d);
  if (ms.length > 0) {
    v['cip.service'] = ms
      .map(({ msg }) => h(msg.service | (msg.direction === 'response' ? 0x80 : 0), 2))
      .join(',');
    const paths = ms.map(({ msg, req }) => (msg.direction === 'request' ? msg.path : req?.path));
    v['cip.class'] = paths.flatMap((p) => (p?.classId === undefined ? [] : [h(p.classId, 2)])).join(',');
    v['cip.instance'] = paths
      .flatMap((p) => (p?.instanceId === undefined ? [] : [h(p.instanceId, 2)]))
      .join(',');
    v['cip.genstat'] = ms
      .flatMap(({ msg }) => (msg.generalStatus === undefined ? [] : [h(msg.generalStatus, 2)]))
      .join(',');
    const msp = ms.find(({ msg }) => msg.service === 0x0a)?.msg.embedded;
    if (msp) v['cip.msp.num_services'] = String(msp.length);
    // Attribute ids of requests: the path's, then those a Get_Attribute_List names.
    if (ms[0]!.msg.direction === 'request')
      v['cip.attribute'] = ms
        .flatMap(({ msg }) => [
          ...(msg.path?.attributeId === undefined ? [] : [msg.path.attributeId]),
          ...(msg.attributes ?? []),
        ])
        .join(',');
  }
  return v;
}

const TSHARK_FIELDS = [
  'enip.command',
  'enip.length',
  'enip.session',
  'enip.status',
  'enip.cpf.typeid',
  'enip.cpf.cai.connid',
  'enip.cpf.sai.connid',
  'enip.cpf.sai.seq',
  'cip.service',
  'cip.class',
  'cip.instance',
  'cip.genstat',
  'cip.msp.num_services',
  'cip.attribute',
];

/** Per frame: every tshark field we decode agrees (cip.attribute on requests only, see caller). */
export function compareTshark(trace: Trace, csvFile: string): Agreement {
  const rows = parseCsv(readFileSync(csvFile, 'utf8'));
  const byFrame = new Map<number, TraceDecode>();
  for (const d of trace.decodes) byFrame.set(d.frame, d);
  const diffs: string[] = [];
  let agree = 0;
  for (const row of rows) {
    const frame = Number(row['frame.number']);
    const d = byFrame.get(frame);
    if (!d) {
      diffs.push(`frame ${frame}: not decoded`);
      continue;
    }
    const ours = tsharkView(d);
    const bad = TSHARK_FIELDS.filter((f) => {
      if (f === 'cip.attribute' && ours[f] === undefined) return false;
      // tshark prints 16-bit instance ids with four digits; ours pads to two.
      const norm = (s: string | undefined) => (s ?? '').replace(/0x0+([0-9a-f]{2,})/g, '0x$1');
      return norm(ours[f]) !== norm(row[f]);
    });
    if (bad.length === 0) agree++;
    else
      diffs.push(
        `frame ${frame}: ${bad.map((f) => `${f} tshark=${row[f]} ours=${ours[f] ?? ''}`).join('; ')}`,
      );
  }
  return { total: rows.length, agree, diffs };
}

function readLog(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t'));
}

/** Compares two ordered lists of rows; returns how many agree position by position. */
function compareRows(expected: string[][], got: string[][], what: string): Agreement {
  const diffs: string[] = [];
  let agree = 0;
  for (let i = 0; i < Math.max(expected.length, got.length); i++) {
    const e = expected[i]?.join(' ');
    const g = got[i]?.join(' ');
    if (e === g) agree++;
    else diffs.push(`${what} row ${i + 1}: zeek=${e ?? '(none)'} ours=${g ?? '(none)'}`);
  }
  return { total: expected.length, agree, diffs };
}

const zeekHex = (n: number | undefined, w: number) => (n === undefined ? '-' : h(n, w));

/** enip.log: command, length, session handle, status, sender context, options per message. */
export function compareEnipLog(trace: Trace, file: string): Agreement {
  const expected = readLog(file).map((r) => [r[11]!, r[13]!, r[14]!, r[15]!, r[16]!, r[17]!]);
  const got = trace.decodes
    .filter((d) => d.result.ok && d.result.value.header)
    .map((d) => {
      const hd = (d.result as { value: EnipPdu }).value.header!;
      return [
        h(hd.command, 2),
        String(hd.length),
        h(hd.sessionHandle, 8),
        hd.status === 0 ? 'Success' : h(hd.status, 8),
        `0x${hd.senderContext}`,
        h(hd.options, 8),
      ];
    });
  return compareRows(expected, got, 'enip.log');
}

/** cip.log: sequence count, direction, service, status, class and instance per CIP message. */
export function compareCipLog(trace: Trace, file: string): Agreement {
  const expected = readLog(file).map((r) => [r[11]!, r[12]!, r[13]!, r[15]!, r[19]!, r[21]!, r[22]!]);
  const got: string[][] = [];
  for (const d of trace.decodes) {
    if (!d.result.ok || !d.result.value.cip) continue;
    const seq = d.result.value.sequenceCount;
    for (const { msg } of messages(d)) {
      const req = msg.direction === 'request';
      got.push([
        seq === undefined ? '-' : String(seq),
        msg.direction,
        h(msg.service, 2),
        req ? '-' : h(msg.generalStatus ?? 0, 2),
        req ? zeekHex(msg.path?.classId, 2) : '-',
        req ? zeekHex(msg.path?.instanceId, 2) : '-',
        req ? zeekHex(msg.path?.attributeId, 2) : '-',
      ]);
    }
  }
  return compareRows(expected, got, 'cip.log');
}

/** cip_io.log: connection id, sequence number, data length and data per I/O datagram. */
export function compareIoLog(trace: Trace, file: string): Agreement {
  const expected = readLog(file).map((r) => [r[11]!, r[12]!, r[13]!, r[14]!]);
  const got = trace.decodes
    .filter((d) => d.result.ok && d.result.value.type === 'io')
    .map((d) => {
      const p = (d.result as { value: EnipPdu }).value;
      const data = p.ioData ?? new Uint8Array(0);
      return [
        h(p.connectionId ?? 0, 8),
        String(p.ioSequence),
        String(data.length),
        Buffer.from(data).toString('hex'),
      ];
    });
  return compareRows(expected, got, 'cip_io.log');
}

/** cip_identity.log: the List Identity reply's identity. */
export function compareIdentityLog(trace: Trace, file: string): Agreement {
  const expected = readLog(file).map((r) => [
    r[11]!,
    r[12]!,
    r[13]!,
    r[14]!,
    r[16]!,
    r[18]!,
    r[19]!,
    r[20]!,
    r[21]!,
    r[22]!,
    r[23]!,
  ]);
  const got = trace.decodes.flatMap((d) =>
    !d.result.ok || !d.result.value.identities
      ? []
      : d.result.value.identities.map((i) => [
          String(i.encapsulationVersion),
          i.socketAddress,
          String(i.socketPort),
          String(i.vendorId),
          String(i.deviceType),
          String(i.productCode),
          i.revision,
          h(i.status, 4),
          h(i.serialNumber, 8),
          i.productName,
          h(i.state, 4),
        ]),
  );
  return compareRows(expected, got, 'cip_identity.log');
}
