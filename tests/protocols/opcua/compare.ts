/**
 * How the OPC UA decoder's events are compared with third-party ground truth: per frame with
 * tshark's `opcua.*` field dump (message type, chunk type, size, secure channel id, endpoint URL,
 * security policy URI, sequence number, request id, service encoding id, request handle, service
 * result: every message of the frame in order), and per transaction with ICSNPP's
 * `opcua_binary.log` (one row per HEL, ACK, and request paired with its response).
 */
import { readFileSync } from 'node:fs';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { parseCsv } from '../../support/csv.ts';

const TSHARK_FIELDS = [
  'opcua.transport.type',
  'opcua.transport.chunk',
  'opcua.transport.size',
  'opcua.transport.scid',
  'opcua.transport.endpoint',
  'opcua.security.spu',
  'opcua.security.seq',
  'opcua.security.rqid',
  'opcua.servicenodeid.numeric',
  'opcua.RequestHandle',
  'opcua.ServiceResult',
] as const;

const TRANSPORT = TSHARK_FIELDS.slice(0, 6);

type Row = Record<(typeof TSHARK_FIELDS)[number], string>;

/** Our events of one frame as tshark would print them (multi-valued cells joined with `,`). */
function ourRow(events: PendingEvent[]): Row {
  const cols: Record<string, string[]> = Object.fromEntries(TSHARK_FIELDS.map((f) => [f, []]));
  for (const e of events) {
    const f = e.fields;
    const push = (k: (typeof TSHARK_FIELDS)[number], v: unknown) => {
      if (v !== undefined && v !== null) cols[k]!.push(String(v));
    };
    push('opcua.transport.type', f.message_type);
    push('opcua.transport.chunk', e.action === 'opcua.abort' ? 'A' : 'F');
    push('opcua.transport.size', f.message_size);
    push('opcua.transport.scid', f.secure_channel_id);
    if (f.message_type === 'HEL') push('opcua.transport.endpoint', f.endpoint_url);
    if (f.message_type === 'OPN') push('opcua.security.spu', f.security_policy_uri);
    if (!f.encrypted) {
      push('opcua.security.seq', f.sequence_number);
      push('opcua.security.rqid', f.request_id);
      push('opcua.servicenodeid.numeric', f.service_id);
      push('opcua.RequestHandle', f.request_handle);
      if (f.direction === 'response') push('opcua.ServiceResult', f.status_code);
    }
  }
  return Object.fromEntries(TSHARK_FIELDS.map((k) => [k, cols[k]!.join(',')])) as Row;
}

export interface FrameAgreement {
  frames: number;
  agree: number;
  /** Frames agreeing on what is readable on an encrypted channel: type, chunk, size, channel, policy. */
  agreeTransport: number;
  /** Frame numbers tshark decodes and we do not agree on, with the first differing field. */
  disagree: Array<{ frame: number; field: string; tshark: string; ours: string }>;
  /** Frames where we produced OPC UA events that tshark does not list. */
  extra: number[];
}

export function compareWithTshark(csvFile: string, events: PendingEvent[]): FrameAgreement {
  const rows = parseCsv(readFileSync(csvFile, 'utf8'));
  const byFrame = new Map<number, PendingEvent[]>();
  for (const e of events) {
    const n = e.fields.frame as number;
    if (e.action === 'opcua.malformed') continue;
    byFrame.set(n, [...(byFrame.get(n) ?? []), e]);
  }
  const out: FrameAgreement = { frames: rows.length, agree: 0, agreeTransport: 0, disagree: [], extra: [] };
  const seen = new Set<number>();
  for (const row of rows) {
    const frame = Number(row['frame.number']);
    seen.add(frame);
    const ours = ourRow(byFrame.get(frame) ?? []);
    // tshark leaves a field out when the encrypted channel hides it, so compare what it printed.
    const bad = TSHARK_FIELDS.find(
      (k) => (row[k] ?? '') !== ours[k] && !(row[k] === '' && k !== 'opcua.transport.type'),
    );
    if (TRANSPORT.every((k) => (row[k] ?? '') === ours[k])) out.agreeTransport++;
    if (bad) out.disagree.push({ frame, field: bad, tshark: row[bad] ?? '', ours: ours[bad] });
    else out.agree++;
  }
  for (const frame of byFrame.keys()) if (!seen.has(frame)) out.extra.push(frame);
  return out;
}

/** One ICSNPP `opcua_binary.log` row reduced to the fields both sides know. */
function zeekKey(c: string[]): string {
  // Columns of ICSNPP_OPCUA_Binary::Info_Log (scripts/types.zeek) without the *_link_id ones.
  const [orig_p, type, rid, reqSize, reqSeq, reqId, reqHandle, resSize, resSeq, resId, resHandle] = [
    c[3],
    c[6],
    c[24],
    c[25],
    c[26],
    c[29],
    c[38],
    c[44],
    c[45],
    c[48],
    c[51],
  ];
  return [orig_p, type, rid, reqSize, reqSeq, reqId, reqHandle, resSize, resSeq, resId, resHandle].join('|');
}

function ourKeys(events: PendingEvent[]): string[] {
  const responses = new Map<number, PendingEvent>();
  for (const e of events) {
    const rf = e.fields.request_frame as number | undefined;
    if (rf !== undefined && e.fields.request_id !== undefined)
      responses.set(rf * 1_000_000 + (e.fields.request_id as number), e);
  }
  const keys: string[] = [];
  const s = (v: unknown) => (v === undefined || v === null ? '-' : String(v));
  for (const e of events) {
    const f = e.fields;
    const clientPort = f.direction === 'request' ? e.src?.port : e.dst?.port;
    if (f.message_type === 'HEL' || f.message_type === 'ACK') {
      keys.push([clientPort, f.message_type, '-', '-', '-', '-', '-', '-', '-', '-', '-'].join('|'));
      continue;
    }
    if (f.request_id === undefined || f.encrypted) continue;
    if (f.direction === 'response') {
      // A response whose request the capture does not hold: a row of its own, as Zeek logs it.
      if ((f.anomalies as string[] | undefined)?.includes('unmatched_response'))
        keys.push(
          [
            clientPort,
            f.message_type,
            f.request_id,
            '-',
            '-',
            '-',
            '-',
            f.message_size,
            f.sequence_number,
            f.service_id,
            f.request_handle,
          ].join('|'),
        );
      continue;
    }
    const r = responses.get((f.frame as number) * 1_000_000 + (f.request_id as number));
    keys.push(
      [
        clientPort,
        f.message_type,
        f.request_id,
        f.message_size,
        f.sequence_number,
        f.service_id,
        f.request_handle,
        s(r?.fields.message_size),
        s(r?.fields.sequence_number),
        s(r?.fields.service_id),
        s(r?.fields.request_handle),
      ].join('|'),
    );
  }
  return keys;
}

export interface TransactionAgreement {
  rows: number;
  agree: number;
  /** Zeek rows we have no equal of, and our transactions Zeek has no equal of. */
  onlyZeek: string[];
  onlyOurs: string[];
}

export function compareWithZeek(logFile: string, events: PendingEvent[]): TransactionAgreement {
  const rows = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => zeekKey(l.split('\t')));
  const ours = ourKeys(events);
  const left = new Map<string, number>();
  for (const k of ours) left.set(k, (left.get(k) ?? 0) + 1);
  const onlyZeek: string[] = [];
  let agree = 0;
  for (const k of rows) {
    const n = left.get(k) ?? 0;
    if (n > 0) {
      agree++;
      left.set(k, n - 1);
    } else onlyZeek.push(k);
  }
  const onlyOurs = [...left].flatMap(([k, n]) => Array<string>(n).fill(k));
  return { rows: rows.length, agree, onlyZeek, onlyOurs };
}
