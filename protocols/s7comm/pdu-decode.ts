/**
 * Decodes one S7 PDU (the payload of a COTP DT, rebuilt when it spans several): the classic
 * S7comm header (protocol id 0x32: ROSCTR, PDU reference, parameter and data lengths, and the
 * error class/code of Ack and Ack_Data), its parameters (setup communication, read/write var
 * items, upload/download file names, PI services, PLC stop, userdata method/group/sub-function)
 * and its data items; S7comm-plus (0x72) is read up to its opcode and function. The layout is
 * Wireshark's packet-s7comm.c and packet-s7comm_plus.c, the only public description. Every read
 * is bounds-checked against the PDU: bad input gives a typed error, never a throw, and no length
 * field allocates anything (values are views, hex capped at MAX_VALUE_BYTES).
 */
import {
  hexOf,
  type S7DataItem,
  type S7Error,
  type S7Item,
  type S7Pdu,
  type S7PlusPdu,
  type S7Result,
  type S7Userdata,
} from './types.ts';

type Out = S7Result<S7Pdu | S7PlusPdu>;

const fail = (code: S7Error['code'], message: string): { ok: false; error: S7Error } => ({
  ok: false,
  error: { code, message },
});

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u32 = (b: Uint8Array, at: number) =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const ascii = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/** Decodes the S7 PDU that a COTP DT carried. */
export function decodeS7Pdu(b: Uint8Array): Out {
  if (b.length === 0) return fail('truncated', 'empty S7 PDU');
  if (b[0] === 0x72) return decodePlus(b);
  if (b[0] !== 0x32) return fail('unknown_protocol', `S7 protocol id 0x${b[0]!.toString(16)}`);
  if (b.length < 10) return fail('truncated', `S7 header of ${b.length} bytes`);
  const rosctr = b[1]!;
  const headerBytes = rosctr === 2 || rosctr === 3 ? 12 : 10;
  if (b.length < headerBytes) return fail('truncated', `S7 header of ${b.length} bytes`);
  const paramLength = u16(b, 6);
  const dataLength = u16(b, 8);
  const end = headerBytes + paramLength + dataLength;
  if (end > b.length)
    return fail(
      'truncated',
      `S7 parameter ${paramLength} + data ${dataLength} bytes, ${b.length - headerBytes} present`,
    );
  const pdu: S7Pdu = {
    protocol: 's7comm',
    rosctr,
    pduRef: u16(b, 4),
    paramLength,
    dataLength,
    anomalies: [],
  };
  if (end < b.length) pdu.anomalies.push('trailing_bytes');
  if (headerBytes === 12) {
    pdu.errorClass = b[10]!;
    pdu.errorCode = b[11]!;
  }
  const param = b.subarray(headerBytes, headerBytes + paramLength);
  const data = b.subarray(headerBytes + paramLength, end);
  let bad: S7Error | null = null;
  if (rosctr === 1 || rosctr === 3) bad = jobParams(pdu, param, data, rosctr === 3);
  else if (rosctr === 7) bad = userdata(pdu, param, data);
  else if (rosctr !== 2) pdu.anomalies.push('unknown_rosctr');
  return bad ? { ok: false, error: bad } : { ok: true, value: pdu };
}

/** Read/write var request items (S7ANY: transport size, length, DB, area, bit address). */
function items(pdu: S7Pdu, p: Uint8Array, count: number): S7Error | null {
  const out: S7Item[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    if (at + 2 > p.length) return { code: 'invalid_parameter', message: `item ${i + 1} of ${count} missing` };
    const len = p[at + 1]!;
    if (at + 2 + len > p.length) return { code: 'invalid_parameter', message: `item ${i + 1} overruns` };
    const syntaxId = p[at + 2] ?? 0;
    const item: S7Item = { syntaxId };
    if (syntaxId === 0x10 && len >= 10) {
      item.transportSize = p[at + 3]!;
      item.length = u16(p, at + 4);
      item.db = u16(p, at + 6);
      item.area = p[at + 8]!;
      item.address = (p[at + 9]! << 16) | (p[at + 10]! << 8) | p[at + 11]!;
    }
    out.push(item);
    at += 2 + len;
  }
  pdu.items = out;
  return null;
}

/** Data items (return code, transport size, length, value) of a read response or write request. */
function dataItems(d: Uint8Array, count: number): S7DataItem[] | S7Error {
  const out: S7DataItem[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > d.length) {
      // A failed read item may be just its return code (0x0a...) and transport size 0.
      if (at + 1 <= d.length && i === count - 1) {
        out.push({ returnCode: d[at]!, transportSize: d[at + 1] ?? 0, value: '', bytes: 0 });
        break;
      }
      return { code: 'invalid_data', message: `data item ${i + 1} of ${count} missing` };
    }
    const rc = d[at]!;
    const ts = d[at + 1]!;
    // A failed item (return code other than success, or 0 in a write request) has no data,
    // whatever its length field says (Snap7 answers 0a 00 00 04).
    if (rc !== 0xff && rc !== 0x00) {
      out.push({ returnCode: rc, transportSize: ts, value: '', bytes: 0 });
      at += 4;
      continue;
    }
    const raw = u16(d, at + 2);
    // Transport sizes 3 (bit), 4 (byte/word/dword) and 5 (integer) count bits; the others bytes.
    const bytes = ts === 3 || ts === 4 || ts === 5 ? (raw + 7) >> 3 : raw;
    if (at + 4 + bytes > d.length) return { code: 'invalid_data', message: `data item ${i + 1} overruns` };
    out.push({ returnCode: rc, transportSize: ts, value: hexOf(d.subarray(at + 4, at + 4 + bytes)), bytes });
    at += 4 + bytes;
    if (bytes % 2 === 1 && i < count - 1) at++; // fill byte between items
  }
  return out;
}

function jobParams(pdu: S7Pdu, p: Uint8Array, d: Uint8Array, ack: boolean): S7Error | null {
  if (p.length === 0) return ack ? null : { code: 'invalid_parameter', message: 'job without parameters' };
  const fn = p[0]!;
  pdu.function = fn;
  switch (fn) {
    case 0xf0:
      if (p.length < 8) return { code: 'invalid_parameter', message: 'setup communication too short' };
      pdu.maxAmqCalling = u16(p, 2);
      pdu.maxAmqCalled = u16(p, 4);
      pdu.pduLength = u16(p, 6);
      return null;
    case 0x04:
    case 0x05: {
      if (p.length < 2) return { code: 'invalid_parameter', message: 'read/write var without item count' };
      const count = p[1]!;
      pdu.itemCount = count;
      if (!ack) {
        const bad = items(pdu, p, count);
        if (bad) return bad;
        if (fn === 0x05) {
          const r = dataItems(d, count);
          if (!Array.isArray(r)) return r;
          pdu.data = r;
        }
      } else if (fn === 0x04) {
        const r = dataItems(d, count);
        if (!Array.isArray(r)) return r;
        pdu.data = r;
      } else {
        if (d.length < count)
          return { code: 'invalid_data', message: `${count} return codes, ${d.length} bytes` };
        pdu.data = Array.from(d.subarray(0, count), (rc) => ({
          returnCode: rc,
          transportSize: 0,
          value: '',
          bytes: 0,
        }));
      }
      return null;
    }
    case 0x1a:
    case 0x1b:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x1f:
      return transfer(pdu, p, ack);
    case 0x28: {
      // func, 7 bytes, parameter block length (u16), block, name length (u8), name.
      if (p.length < 10) return ack ? null : { code: 'invalid_parameter', message: 'PI service too short' };
      const blockLen = u16(p, 8);
      const at = 10 + blockLen;
      if (at >= p.length) return { code: 'invalid_parameter', message: 'PI service block overruns' };
      const nameLen = p[at]!;
      if (at + 1 + nameLen > p.length)
        return { code: 'invalid_parameter', message: 'PI service name overruns' };
      pdu.piArgs = ascii(p.subarray(10, at));
      pdu.piService = ascii(p.subarray(at + 1, at + 1 + nameLen));
      return null;
    }
    case 0x29: {
      if (p.length < 7) return ack ? null : { code: 'invalid_parameter', message: 'PLC stop too short' };
      const nameLen = p[6]!;
      if (7 + nameLen > p.length) return { code: 'invalid_parameter', message: 'PLC stop name overruns' };
      pdu.piService = ascii(p.subarray(7, 7 + nameLen));
      return null;
    }
    default:
      pdu.anomalies.push('unknown_function');
      return null;
  }
}

/** Upload/download parameters: status, upload id, and the block's file name or length. */
function transfer(pdu: S7Pdu, p: Uint8Array, ack: boolean): S7Error | null {
  if (p.length < 2) return null;
  pdu.status = p[1]!;
  const fn = pdu.function!;
  // func, status, 2 bytes (an error code in end upload), upload id.
  if (p.length >= 8) pdu.uploadId = u32(p, 4);
  if (p.length < 9) return null;
  const len = p[8]!;
  if (9 + len > p.length) return { code: 'invalid_parameter', message: 'file name overruns' };
  const text = ascii(p.subarray(9, 9 + len));
  if (ack && fn === 0x1d) {
    const n = Number.parseInt(text, 10);
    if (Number.isFinite(n)) pdu.blockLength = n;
    return null;
  }
  if (ack || fn === 0x1e || fn === 0x1f) return null;
  pdu.filename = text;
  // "_0B00000A": '_', block type (2 hex digits), number (5 digits), file system (A/P/B).
  if (text.length >= 9 && text[0] === '_') {
    pdu.blockType = BLOCK_TYPES[text.slice(1, 3)] ?? `type_${text.slice(1, 3)}`;
    const n = Number.parseInt(text.slice(3, 8), 10);
    if (Number.isFinite(n)) pdu.blockNumber = n;
    pdu.destinationFilesystem = FILESYSTEMS[text[8]!] ?? text[8]!;
  }
  return null;
}

const BLOCK_TYPES: Record<string, string> = {
  '08': 'ob',
  '0A': 'db',
  '0B': 'sdb',
  '0C': 'fc',
  '0D': 'sfc',
  '0E': 'fb',
  '0F': 'sfb',
};
const FILESYSTEMS: Record<string, string> = { A: 'active', P: 'passive', B: 'active_and_passive' };

function userdata(pdu: S7Pdu, p: Uint8Array, d: Uint8Array): S7Error | null {
  // 00 01 12, parameter length (4 or 8), method, type|group, sub-function, sequence number.
  if (p.length < 8) return { code: 'invalid_parameter', message: `userdata parameters of ${p.length} bytes` };
  const u: S7Userdata = {
    method: p[4]!,
    type: p[5]! >> 4,
    group: p[5]! & 0x0f,
    subfunction: p[6]!,
    sequence: p[7]!,
    data: d.subarray(0, 0),
  };
  if (p[3]! >= 8 && p.length >= 12) {
    u.dataUnitRef = p[8]!;
    u.lastDataUnit = p[9]! === 0;
    u.errorCode = u16(p, 10);
  }
  if (d.length >= 4) {
    u.returnCode = d[0]!;
    u.transportSize = d[1]!;
    const len = u16(d, 2);
    if (4 + len > d.length) return { code: 'invalid_data', message: `userdata data length ${len} overruns` };
    u.data = d.subarray(4, 4 + len);
    // A fragment of a longer answer (data unit reference set) has no SZL header of its own.
    const fragment = u.type === 8 && (u.dataUnitRef ?? 0) !== 0;
    if (u.group === 4 && u.subfunction === 1 && u.data.length >= 4 && !fragment) {
      u.szlId = u16(u.data, 0);
      u.szlIndex = u16(u.data, 2);
    }
  }
  pdu.userdata = u;
  return null;
}

function decodePlus(b: Uint8Array): Out {
  if (b.length < 4) return fail('truncated', `S7comm-plus header of ${b.length} bytes`);
  const pdu: S7PlusPdu = { protocol: 's7comm_plus', version: b[1]!, anomalies: [] };
  const len = u16(b, 2);
  if (4 + len > b.length) return fail('truncated', `S7comm-plus length ${len}, ${b.length - 4} present`);
  let at = 4;
  // Versions 2 and 3 carry an integrity part first: digest length (32) and the digest.
  if (pdu.version >= 2 && b[at] === 0x20 && len >= 33) at += 33;
  if (len === 0 || at >= 4 + len) return { ok: true, value: pdu }; // keep-alive or trailer
  pdu.opcode = b[at]!;
  // Opcode, 2 reserved bytes, function, 2 reserved bytes, sequence number.
  if ((pdu.opcode === 0x31 || pdu.opcode === 0x32) && at + 9 <= 4 + len) {
    pdu.function = u16(b, at + 3);
    pdu.sequence = u16(b, at + 7);
  }
  return { ok: true, value: pdu };
}
