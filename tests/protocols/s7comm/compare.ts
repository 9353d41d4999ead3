/**
 * The fields tshark and Zeek/ICSNPP report for an S7comm frame or transaction, computed from what
 * our codec decoded, so the ground-truth tests compare like with like (same column names, same
 * number formats: tshark's `0x0f`, `0x000080`; ICSNPP's `0x44` for userdata type|group).
 */
import { parseCsv } from '../../support/csv.ts';
import { readFileSync } from 'node:fs';
import type { S7Message, S7Pdu } from '../../../protocols/s7comm/index.ts';

const h2 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
const h4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const h6 = (n: number) => `0x${n.toString(16).padStart(6, '0')}`;

/** The columns of expected-tshark/<trace>.s7comm.csv that are compared. */
export const TSHARK_COLUMNS = [
  'cotp.type',
  's7comm.header.rosctr',
  's7comm.header.pduref',
  's7comm.header.errcls',
  's7comm.header.errcod',
  's7comm.param.func',
  's7comm.param.itemcount',
  's7comm.param.item.area',
  's7comm.param.item.db',
  's7comm.param.item.address',
  's7comm.data.returncode',
  's7comm.param.userdata.type',
  's7comm.param.userdata.funcgroup',
  's7comm.param.userdata.subfunc',
  's7comm.data.userdata.szl_id',
  's7comm.data.userdata.szl_index',
] as const;

export function readTshark(file: string): Array<Record<string, string>> {
  return parseCsv(readFileSync(file, 'utf8'));
}

/** What tshark would show for this frame's message, in its column formats. */
export function tsharkView(m: S7Message<number>): Record<string, string> {
  const v: Record<string, string> = { 'cotp.type': h2(m.cotp.type) };
  const p = m.pdu;
  if (!p || p.protocol !== 's7comm') return v;
  v['s7comm.header.rosctr'] = String(p.rosctr);
  v['s7comm.header.pduref'] = String(p.pduRef);
  if (p.errorClass !== undefined) {
    v['s7comm.header.errcls'] = h2(p.errorClass);
    v['s7comm.header.errcod'] = h2(p.errorCode!);
  }
  if (p.function !== undefined) v['s7comm.param.func'] = h2(p.function);
  if (p.itemCount !== undefined && (p.function === 4 || p.function === 5))
    v['s7comm.param.itemcount'] = String(p.itemCount);
  const s7any = p.items?.filter((i) => i.area !== undefined) ?? [];
  if (s7any.length > 0) {
    v['s7comm.param.item.area'] = s7any.map((i) => h2(i.area!)).join(',');
    v['s7comm.param.item.db'] = s7any.map((i) => String(i.db)).join(',');
    v['s7comm.param.item.address'] = s7any.map((i) => h6(i.address!)).join(',');
  }
  if (p.data) v['s7comm.data.returncode'] = p.data.map((d) => h2(d.returnCode)).join(',');
  const u = p.userdata;
  if (u) {
    if (u.returnCode !== undefined) v['s7comm.data.returncode'] = h2(u.returnCode);
    v['s7comm.param.userdata.type'] = String(u.type);
    v['s7comm.param.userdata.funcgroup'] = String(u.group);
    v['s7comm.param.userdata.subfunc'] = String(u.subfunction);
    if (u.szlId !== undefined) {
      v['s7comm.data.userdata.szl_id'] = h4(u.szlId);
      v['s7comm.data.userdata.szl_index'] = h4(u.szlIndex!);
    }
  }
  return v;
}

/** Cells where our view differs from tshark's row (only the compared columns). */
export function tsharkDiff(row: Record<string, string>, mine: Record<string, string>): string[] {
  const out: string[] = [];
  for (const c of TSHARK_COLUMNS)
    if ((row[c] ?? '') !== (mine[c] ?? '')) out.push(`${c}: tshark ${row[c]}, ours ${mine[c]}`);
  return out;
}

/** ICSNPP reads the PDU reference little-endian; tshark and we read it big-endian. */
export const swap16 = (n: number) => ((n & 0xff) << 8) | (n >> 8);

/** The key of an s7comm.log row: is_orig, ROSCTR, PDU reference, function, sub-function, error code. */
export function zeekS7Key(r: Record<string, string>): string {
  return [r.is_orig, r.rosctr_code, r.pdu_reference, r.function_code, r.subfunction_code, r.error_code].join(
    '|',
  );
}

export function ourS7Key(m: S7Message<number>): string | null {
  const p = m.pdu;
  if (!p || p.protocol !== 's7comm') return null;
  const u = p.userdata;
  const fn = u ? h2((u.type << 4) | u.group) : p.function !== undefined ? h2(p.function) : '-';
  const sub = u
    ? h2(u.subfunction)
    : p.function === 0x28 && m.direction === 'request'
      ? (p.piService ?? '-')
      : '-';
  let err = '-';
  if (p.rosctr === 2 || p.rosctr === 3) err = h2(p.errorCode ?? 0);
  if (u && u.type === 8) err = u.errorCode ? h4(u.errorCode) : '0x00';
  return [m.direction === 'request' ? 'T' : 'F', p.rosctr, swap16(p.pduRef), fn, sub, err].join('|');
}

const UPLOAD_NAMES: Record<number, string> = {
  0x1a: 'Request Download',
  0x1b: 'Download Block',
  0x1c: 'Download Ended',
  0x1d: 'Start Upload',
  0x1e: 'Upload',
  0x1f: 'End Upload',
};

/** s7comm_upload_download.log: is_orig, PDU reference, function, session id, file name. */
export function zeekTransferKey(r: Record<string, string>): string {
  return [r.is_orig, r.pdu_reference, r.function_name, r.session_id, r.filename].join('|');
}

export function ourTransferKey(m: S7Message<number>): string | null {
  const p = m.pdu as S7Pdu | undefined;
  if (!p || p.protocol !== 's7comm' || p.rosctr === 2) return null;
  const name = UPLOAD_NAMES[p.function ?? -1];
  if (!name) return null;
  const session = p.function === 0x1f && m.direction === 'response' ? '-' : (p.uploadId ?? '-');
  return [m.direction === 'request' ? 'T' : 'F', swap16(p.pduRef), name, session, p.filename ?? '-'].join(
    '|',
  );
}
