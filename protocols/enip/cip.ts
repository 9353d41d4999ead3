/**
 * CIP explicit messages (CIP Vol. 1 §2-4): the Message Router request (service, EPATH, data) and
 * response (service | 0x80, general and additional status, data), the EPATH segments a rule needs
 * (Appendix C-1.4: port, logical class/instance/attribute/member/connection point, ANSI extended
 * symbol), and the two services that carry other messages: Multiple Service Packet (§, an
 * offset table) and the Connection Manager's Unconnected Send (§3-5.5.4, a message and a route).
 * Pure; every count and offset is checked against the bytes present, nesting is capped by
 * MAX_CIP_DEPTH and embedded services by MAX_MSP_SERVICES. Never throws.
 */
import {
  type CipMessage,
  type CipPath,
  type EnipDirection,
  type EnipResult,
  enipError,
  MAX_CIP_DEPTH,
  MAX_MSP_SERVICES,
  u16le,
  u32le,
} from './types.ts';

const MSP = 0x0a;
const UNCONNECTED_SEND = 0x52;
const FORWARD_OPEN = 0x54;
const LARGE_FORWARD_OPEN = 0x5b;
const CONNECTION_MANAGER = 0x06;
const decoder = new TextDecoder('latin1');

/** Decodes `bytes` as an EPATH (its length already known); unsupported segments stop it with an anomaly. */
export function parsePath(b: Uint8Array, anomalies: string[]): CipPath {
  const path: CipPath = {};
  let off = 0;
  while (off < b.length) {
    const seg = b[off]!;
    const type = seg >> 5;
    if (type === 0) {
      // Port segment (C-1.4.1): bit 4 = extended link address, low nibble = port (15: 16-bit port follows).
      const extended = (seg & 0x10) !== 0;
      let at = off + 1;
      let port = seg & 0x0f;
      let linkLen = 1;
      if (extended) linkLen = b[at++] ?? 0;
      if (port === 15) {
        if (at + 2 > b.length) break;
        port = u16le(b, at);
        at += 2;
      }
      if (at + linkLen > b.length) {
        anomalies.push('truncated_path');
        return path;
      }
      const link = extended ? decoder.decode(b.subarray(at, at + linkLen)) : String(b[at]);
      at += linkLen;
      if ((at - off) % 2 === 1) at++; // padded to an even length
      (path.route ??= []).push({ port, link });
      off = at;
    } else if (type === 1) {
      // Logical segment (C-1.4.2): bits 4–2 the logical type, bits 1–0 the format (8/16/32-bit).
      const logical = (seg >> 2) & 0x07;
      const format = seg & 0x03;
      let value: number;
      if (format === 0) {
        if (off + 2 > b.length) break;
        value = b[off + 1]!;
        off += 2;
      } else if (format === 1) {
        if (off + 4 > b.length) break;
        value = u16le(b, off + 2);
        off += 4;
      } else if (format === 2) {
        if (off + 6 > b.length) break;
        value = u32le(b, off + 2);
        off += 6;
      } else {
        anomalies.push('unsupported_path_segment');
        return path;
      }
      if (logical === 0) path.classId = value;
      else if (logical === 1) path.instanceId = value;
      else if (logical === 2) path.memberId = value;
      else if (logical === 3) path.connectionPoint = value;
      else if (logical === 4) path.attributeId = value;
      else {
        anomalies.push('unsupported_path_segment');
        return path;
      }
    } else if (seg === 0x91) {
      // ANSI extended symbol segment (C-1.4.5.2): length, characters, a pad byte when odd.
      const len = b[off + 1] ?? 0;
      if (off + 2 + len > b.length) break;
      const name = decoder.decode(b.subarray(off + 2, off + 2 + len));
      path.symbol = path.symbol === undefined ? name : `${path.symbol}.${name}`;
      off += 2 + len + (len % 2);
    } else if (seg === 0x80) {
      // Simple data segment (C-1.4.5.1): a word count, then the words; skipped.
      off += 2 + 2 * (b[off + 1] ?? 0);
    } else {
      anomalies.push('unsupported_path_segment');
      return path;
    }
  }
  if (off > b.length) anomalies.push('truncated_path');
  else if (off < b.length) anomalies.push('truncated_path');
  return path;
}

/** Decodes one CIP message; `depth` bounds nesting through MSP and Unconnected Send. */
export function decodeCip(b: Uint8Array, depth = 0): EnipResult<CipMessage> {
  if (b.length < 2) return enipError('truncated', `CIP message of ${b.length} bytes`);
  const code = b[0]!;
  const direction: EnipDirection = code & 0x80 ? 'response' : 'request';
  const service = code & 0x7f;
  const anomalies: string[] = [];
  let msg: CipMessage;
  if (direction === 'request') {
    const pathBytes = 2 * b[1]!;
    if (2 + pathBytes > b.length)
      return enipError('invalid_path', `path of ${pathBytes} bytes overruns a ${b.length}-byte message`);
    const path = parsePath(b.subarray(2, 2 + pathBytes), anomalies);
    msg = { direction, service, path, data: b.subarray(2 + pathBytes), anomalies };
  } else {
    // Vol. 1 §2-4.2: reply service, reserved, general status, additional status size (words).
    if (b.length < 4) return enipError('truncated', `CIP response of ${b.length} bytes`);
    const extWords = b[3]!;
    if (4 + 2 * extWords > b.length)
      return enipError('invalid_cip', `additional status of ${extWords} words overruns the message`);
    const extendedStatus: number[] = [];
    for (let i = 0; i < extWords; i++) extendedStatus.push(u16le(b, 4 + 2 * i));
    msg = { direction, service, generalStatus: b[2]!, data: b.subarray(4 + 2 * extWords), anomalies };
    if (extWords > 0) msg.extendedStatus = extendedStatus;
    if (b[1] !== 0) anomalies.push('reserved_not_zero');
  }
  if (depth >= MAX_CIP_DEPTH) {
    if (service === MSP || service === UNCONNECTED_SEND) anomalies.push('nesting_too_deep');
    return { ok: true, value: msg };
  }
  if (service === MSP) embedMsp(msg, depth);
  else if (direction === 'request') requestDetail(msg, depth);
  return { ok: true, value: msg };
}

function requestDetail(msg: CipMessage, depth: number): void {
  const d = msg.data;
  const classId = msg.path?.classId;
  if ((msg.service === 0x03 || msg.service === 0x04) && d.length >= 2) {
    // Get/Set_Attribute_List (§, § ): a count, then ids (Set: each followed by its value,
    // whose size only the class knows, so only the first id is certain).
    const count = Math.min(u16le(d, 0), MAX_MSP_SERVICES);
    const ids: number[] = [];
    if (msg.service === 0x03)
      for (let i = 0; i < count && 4 + 2 * i <= d.length; i++) ids.push(u16le(d, 2 + 2 * i));
    else if (count > 0 && d.length >= 4) ids.push(u16le(d, 2));
    msg.attributes = ids;
  } else if (classId === CONNECTION_MANAGER && msg.service === UNCONNECTED_SEND) {
    // §3-5.5.4: priority/tick, timeout ticks, message size, message (padded to even), route.
    if (d.length < 4) return void msg.anomalies.push('truncated_unconnected_send');
    const size = u16le(d, 2);
    if (4 + size > d.length) return void msg.anomalies.push('truncated_unconnected_send');
    const inner = decodeCip(d.subarray(4, 4 + size), depth + 1);
    if (inner.ok) msg.embedded = [inner.value];
    else msg.anomalies.push(`embedded_${inner.error.code}`);
  } else if (
    classId === CONNECTION_MANAGER &&
    (msg.service === FORWARD_OPEN || msg.service === LARGE_FORWARD_OPEN)
  ) {
    // §3-5.5.2: tick, timeout, O→T id, T→O id, serial, vendor, originator serial, ...
    if (d.length >= 14)
      msg.forwardOpen = {
        otConnectionId: u32le(d, 2),
        toConnectionId: u32le(d, 6),
        serial: u16le(d, 10),
        vendorId: u16le(d, 12),
      };
  }
}

/** Multiple Service Packet (§ ): a count, offsets from the count, the messages. */
function embedMsp(msg: CipMessage, depth: number): void {
  const d = msg.data;
  if (msg.direction === 'response' && msg.generalStatus !== 0 && msg.generalStatus !== 0x1e) return;
  if (d.length < 2) return void msg.anomalies.push('truncated_multiple_service_packet');
  const count = u16le(d, 0);
  if (count > MAX_MSP_SERVICES) msg.anomalies.push('too_many_services');
  const n = Math.min(count, MAX_MSP_SERVICES);
  if (2 + 2 * n > d.length) return void msg.anomalies.push('truncated_multiple_service_packet');
  const embedded: CipMessage[] = [];
  for (let i = 0; i < n; i++) {
    const start = u16le(d, 2 + 2 * i);
    const end = i + 1 < n ? u16le(d, 4 + 2 * i) : d.length;
    if (start < 2 + 2 * n || end > d.length || start >= end) {
      msg.anomalies.push('invalid_service_offset');
      break;
    }
    const inner = decodeCip(d.subarray(start, end), depth + 1);
    if (!inner.ok) {
      msg.anomalies.push(`embedded_${inner.error.code}`);
      break;
    }
    embedded.push(inner.value);
  }
  msg.embedded = embedded;
}

/** The message and every message inside it, depth first: the order Zeek and tshark list them. */
export function flattenCip(msg: CipMessage, out: CipMessage[] = []): CipMessage[] {
  out.push(msg);
  if (msg.embedded) for (const m of msg.embedded) flattenCip(m, out);
  return out;
}
