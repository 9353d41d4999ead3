/**
 * Compares the session's messages with ICSNPP's Zeek `bacnet.log` (one row per APDU or network
 * message; a segmented APDU is one row, as in the session): both sides become keys of sender,
 * receiver, BVLC function, PDU type, service, invoke id and result code, and agreement is counted
 * as a multiset (the baselines mask their time stamps, so time is not compared).
 */
import { readFileSync } from 'node:fs';
import {
  type BacnetMessage,
  nameOf,
  serviceName,
  ABORT_REASONS,
  ERROR_CODES,
  REJECT_REASONS,
} from '../../../protocols/bacnet/index.ts';

const ZEEK_BVLC: Record<string, string> = {
  original_unicast_npdu: 'Original_Unicast_NPDU',
  original_broadcast_npdu: 'Original_Broadcast_NPDU',
  distribute_broadcast_to_network: 'Distribute_Broadcast_to_Network',
  forwarded_npdu: 'Forwarded_NPDU',
};
const ZEEK_PDU = [
  'CONFIRMED_REQUEST',
  'UNCONFIRMED_REQUEST',
  'SIMPLE_ACK',
  'COMPLEX_ACK',
  'SEGMENT_ACK',
  'ERROR_PDU',
  'REJECT_PDU',
  'ABORT_PDU',
];

/** Zeek's columns source_h, source_p, destination_h, destination_p, bvlc_function, pdu_type, pdu_service, invoke_id, result_code. */
export function readZeekRows(file: string): string[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  return lines.map((l) => l.split('\t').slice(7, 16).join(' '));
}

/** The same key for one of our messages; `src`/`dst` are the datagram's `ip:port`. */
export function messageKey(m: BacnetMessage<unknown>, src: string, dst: string): string {
  const f = m.frame;
  const [sh, sp] = [src.slice(0, src.lastIndexOf(':')), src.slice(src.lastIndexOf(':') + 1)];
  const [dh, dp] = [dst.slice(0, dst.lastIndexOf(':')), dst.slice(dst.lastIndexOf(':') + 1)];
  const bvlc = ZEEK_BVLC[f.bvlc?.functionName ?? ''] ?? f.bvlc?.functionName ?? '-';
  const a = f.apdu;
  let pdu = 'NPDU';
  let service = f.npdu?.messageName ?? '-';
  let result = '-';
  let invoke = '-';
  if (a) {
    pdu = ZEEK_PDU[a.type] ?? '-';
    invoke = a.invokeId === undefined ? '-' : String(a.invokeId);
    service = a.serviceChoice === undefined ? '-' : serviceName(a.type, a.serviceChoice);
    if (a.type === 4) service = '-';
    if (a.type === 6) {
      service = 'reject';
      result = nameOf(REJECT_REASONS, a.reason!);
    }
    if (a.type === 7) {
      service = 'abort';
      result = nameOf(ABORT_REASONS, a.reason!);
    }
    if (a.type === 5 && a.params?.errorCode !== undefined) result = nameOf(ERROR_CODES, a.params.errorCode);
  }
  return [sh, sp, dh, dp, bvlc, pdu, service, invoke, result.replaceAll('_', '-')].join(' ');
}

/** How many of Zeek's rows our keys match one to one, and the rows left over on each side. */
export function agreeMultiset(
  ours: string[],
  zeek: string[],
): { agree: number; onlyOurs: string[]; onlyZeek: string[] } {
  const count = new Map<string, number>();
  for (const k of ours) count.set(k, (count.get(k) ?? 0) + 1);
  let agree = 0;
  const onlyZeek: string[] = [];
  for (const k of zeek) {
    const n = count.get(k) ?? 0;
    if (n > 0) {
      agree++;
      count.set(k, n - 1);
    } else onlyZeek.push(k);
  }
  const onlyOurs = [...count].flatMap(([k, n]) => Array<string>(n).fill(k));
  return { agree, onlyOurs, onlyZeek };
}
