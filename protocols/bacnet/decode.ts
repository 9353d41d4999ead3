/**
 * Decodes one BACnet message: a BACnet/IP datagram (BVLC, ANSI/ASHRAE 135-2020 Annex J), or the
 * payload of an 802.2 LLC frame (clause 7: DSAP/SSAP 0x82, the NPDU follows), down through the
 * NPDU (clause 6.2) to the APDU header (clause 20.1) and, for an unsegmented APDU, its service
 * parameters. Segments are left whole in `apdu.body` for the session to reassemble. Pure; returns
 * a typed error instead of throwing, and reads nothing past the datagram it is given.
 */
import { decodeParams } from './services.ts';
import { BVLC_FUNCTIONS, NETWORK_MESSAGES } from './names.ts';
import { type Apdu, type BacnetFrame, type Bvlc, fail, type Npdu, PDU_TYPES, type Result } from './types.ts';

/** BVLC type octet for BACnet/IP (Annex J.2). */
export const BVLC_TYPE_BIP = 0x81;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Hex of a short address (at most 255 octets); a table beats Buffer.from's copy per frame. */
function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}
const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

/** Decodes a BACnet/IP datagram (UDP payload, port 47808 by default). */
export function decodeBacnetIp(b: Uint8Array): Result<BacnetFrame> {
  if (b.length < 4) return fail('truncated', `${b.length} bytes: shorter than a BVLC header`);
  if (b[0] !== BVLC_TYPE_BIP)
    return fail('not_bvlc', `BVLC type 0x${b[0]!.toString(16)} is not BACnet/IP (0x81)`);
  const fn = b[1]!;
  const length = u16(b, 2);
  const bvlc: Bvlc = { function: fn, functionName: BVLC_FUNCTIONS[fn] ?? `unknown_${fn}`, length };
  // Annex J.2 says the length covers the whole datagram. Devices (and icsnpp's example trace) get
  // it wrong while the rest decodes; like tshark and Zeek, decode the datagram and say so.
  const anomalies = length !== b.length ? ['bvlc_length_mismatch'] : undefined;
  const r = decodeBvlcBody(b, bvlc);
  if (r.ok && anomalies) r.value.anomalies = anomalies;
  return r;
}

function decodeBvlcBody(b: Uint8Array, bvlc: Bvlc): Result<BacnetFrame> {
  const fn = bvlc.function;
  let at = 4;
  switch (fn) {
    case 0x00: // J.2.1 BVLC-Result
      if (b.length < 6) return fail('truncated', 'BVLC-Result without its result code');
      bvlc.resultCode = u16(b, 4);
      return { ok: true, value: { bvlc } };
    case 0x05: // J.2.6 Register-Foreign-Device
      if (b.length < 6) return fail('truncated', 'Register-Foreign-Device without its time-to-live');
      bvlc.ttlSecs = u16(b, 4);
      return { ok: true, value: { bvlc } };
    case 0x04: // J.2.9 Forwarded-NPDU: the original source's B/IP address, then the NPDU
      if (b.length < 10) return fail('truncated', 'Forwarded-NPDU without its original source');
      bvlc.originalSource = `${b[4]}.${b[5]}.${b[6]}.${b[7]}:${u16(b, 8)}`;
      at = 10;
      break;
    case 0x09:
    case 0x0a:
    case 0x0b:
      break;
    default:
      // Table management and Secure-BVLL carry no NPDU.
      return { ok: true, value: { bvlc } };
  }
  const rest = decodeNpduApdu(b.subarray(at));
  if (!rest.ok) return rest;
  return { ok: true, value: { bvlc, ...rest.value } };
}

/** Decodes an NPDU and what follows it (the payload after BVLC, or after an 802.2 LLC header). */
export function decodeNpduApdu(b: Uint8Array): Result<BacnetFrame> {
  const npdu = decodeNpdu(b);
  if (!npdu.ok) return npdu;
  const { value: n, at } = npdu.value;
  if (n.networkMessage) return { ok: true, value: { npdu: n } };
  const apdu = decodeApdu(b.subarray(at));
  if (!apdu.ok) return apdu;
  return { ok: true, value: { npdu: n, apdu: apdu.value } };
}

function decodeNpdu(b: Uint8Array): Result<{ value: Npdu; at: number }> {
  if (b.length < 2) return fail('truncated', 'NPDU shorter than its version and control octets');
  // Clause 6.2.1: protocol version is 1.
  if (b[0] !== 1) return fail('unsupported_npdu_version', `NPDU version ${b[0]} (only 1 exists)`);
  const control = b[1]!;
  const n: Npdu = {
    version: 1,
    control,
    networkMessage: (control & 0x80) !== 0,
    expectingReply: (control & 0x04) !== 0,
    priority: control & 0x03,
  };
  let at = 2;
  // Clause 6.2.2: bit 5 DNET/DLEN/DADR present, bit 3 SNET/SLEN/SADR present.
  if (control & 0x20) {
    if (at + 3 > b.length) return fail('truncated', 'NPDU destination cut short');
    n.dnet = u16(b, at);
    const dlen = b[at + 2]!;
    at += 3;
    if (at + dlen > b.length) return fail('truncated', 'NPDU DADR cut short');
    n.dadr = hex(b.subarray(at, at + dlen));
    at += dlen;
  }
  if (control & 0x08) {
    if (at + 3 > b.length) return fail('truncated', 'NPDU source cut short');
    n.snet = u16(b, at);
    const slen = b[at + 2]!;
    at += 3;
    // Clause 6.2.2.1: SLEN 0 is invalid (a source is never a broadcast).
    if (slen === 0) return fail('invalid_address', 'NPDU SNET present with SLEN 0');
    if (at + slen > b.length) return fail('truncated', 'NPDU SADR cut short');
    n.sadr = hex(b.subarray(at, at + slen));
    at += slen;
  }
  if (control & 0x20) {
    if (at >= b.length) return fail('truncated', 'NPDU hop count missing');
    n.hopCount = b[at++]!;
  }
  if (n.networkMessage) {
    if (at >= b.length) return fail('truncated', 'network layer message type missing');
    const t = b[at++]!;
    n.messageType = t;
    // Clause 6.2.4: types 0x80–0xFF are proprietary and carry a vendor id.
    if (t >= 0x80) {
      if (at + 2 > b.length) return fail('truncated', 'proprietary network message without vendor id');
      n.vendorId = u16(b, at);
      at += 2;
      n.messageName = 'proprietary_network_message';
    } else {
      n.messageName = NETWORK_MESSAGES[t] ?? `unknown_${t}`;
      const networks = networkList(t, b, at);
      if (networks.length > 0) n.networks = networks;
    }
  }
  return { ok: true, value: { value: n, at } };
}

/** Networks listed after the message types that carry them, capped at 64. */
function networkList(type: number, b: Uint8Array, at: number): number[] {
  const out: number[] = [];
  // 0 Who-Is-Router (one optional), 1 I-Am-Router, 4 Router-Busy, 5 Router-Available (lists),
  // 2 I-Could-Be-Router and 3 Reject-Message (one, after a reason octet for 3).
  if (type === 3) at += 1;
  const max = type === 0 || type === 2 || type === 3 ? 1 : type === 1 || type === 4 || type === 5 ? 64 : 0;
  while (out.length < max && at + 2 <= b.length) {
    out.push(u16(b, at));
    at += 2;
  }
  return out;
}

/** Decodes an APDU (clause 20.1); parameters are decoded when the APDU is not segmented. */
export function decodeApdu(b: Uint8Array): Result<Apdu> {
  if (b.length < 1) return fail('truncated', 'empty APDU');
  const type = b[0]! >> 4;
  const flags = b[0]!;
  const a: Apdu = {
    type,
    typeName: PDU_TYPES[type] ?? `unknown_${type}`,
    segmented: false,
    moreFollows: false,
    body: b.subarray(0, 0),
    anomalies: [],
  };
  let at = 1;
  const need = (n: number, what: string) =>
    at + n > b.length ? fail('truncated', `${what} cut short`) : null;
  switch (type) {
    case 0: {
      // 20.1.2: flags SEG 0x08, MOR 0x04, SA 0x02; max-segs/max-APDU; invoke id; [seq, window]; service.
      a.segmented = (flags & 0x08) !== 0;
      a.moreFollows = (flags & 0x04) !== 0;
      a.segmentedResponseAccepted = (flags & 0x02) !== 0;
      const bad = need(a.segmented ? 5 : 3, 'BACnet-Confirmed-Request-PDU header');
      if (bad) return bad;
      a.maxSegments = (b[at]! >> 4) & 0x07;
      a.maxApdu = b[at]! & 0x0f;
      a.invokeId = b[at + 1]!;
      at += 2;
      if (a.segmented) {
        a.sequenceNumber = b[at]!;
        a.windowSize = b[at + 1]!;
        at += 2;
      }
      a.serviceChoice = b[at++]!;
      break;
    }
    case 1:
      if (need(1, 'BACnet-Unconfirmed-Request-PDU'))
        return fail('truncated', 'unconfirmed request without service');
      a.serviceChoice = b[at++]!;
      break;
    case 2:
      if (need(2, 'BACnet-SimpleACK-PDU')) return fail('truncated', 'SimpleACK cut short');
      a.invokeId = b[at]!;
      a.serviceChoice = b[at + 1]!;
      at += 2;
      break;
    case 3: {
      // 20.1.5: SEG 0x08, MOR 0x04; invoke id; [seq, window]; service.
      a.segmented = (flags & 0x08) !== 0;
      a.moreFollows = (flags & 0x04) !== 0;
      const bad = need(a.segmented ? 4 : 2, 'BACnet-ComplexACK-PDU header');
      if (bad) return bad;
      a.invokeId = b[at++]!;
      if (a.segmented) {
        a.sequenceNumber = b[at]!;
        a.windowSize = b[at + 1]!;
        at += 2;
      }
      a.serviceChoice = b[at++]!;
      break;
    }
    case 4:
      // 20.1.6: NAK 0x02, SRV 0x01; invoke id; sequence number; actual window size.
      if (need(3, 'BACnet-SegmentACK-PDU')) return fail('truncated', 'SegmentACK cut short');
      a.nak = (flags & 0x02) !== 0;
      a.server = (flags & 0x01) !== 0;
      a.invokeId = b[at]!;
      a.sequenceNumber = b[at + 1]!;
      a.windowSize = b[at + 2]!;
      at += 3;
      break;
    case 5:
      if (need(2, 'BACnet-Error-PDU')) return fail('truncated', 'Error PDU cut short');
      a.invokeId = b[at]!;
      a.serviceChoice = b[at + 1]!;
      at += 2;
      break;
    case 6:
    case 7:
      // 20.1.8 Reject, 20.1.9 Abort (SRV 0x01): invoke id, reason.
      if (need(2, 'Reject/Abort PDU')) return fail('truncated', 'Reject or Abort PDU cut short');
      if (type === 7) a.server = (flags & 0x01) !== 0;
      a.invokeId = b[at]!;
      a.reason = b[at + 1]!;
      at += 2;
      break;
    default:
      return fail('invalid_apdu', `APDU type ${type} is reserved`);
  }
  a.body = b.subarray(at);
  if (!a.segmented && (type === 0 || type === 1 || type === 3 || type === 5)) {
    const r = decodeParams(type, a.serviceChoice!, a.body);
    a.params = r.params;
    a.anomalies.push(...r.anomalies);
  }
  return { ok: true, value: a };
}

/** BACnet over ISO 8802-2 LLC (clause 7): DSAP 0x82, SSAP 0x82, UI control 0x03, then the NPDU. */
export function decodeBacnetLlc(b: Uint8Array): Result<BacnetFrame> {
  if (b.length < 3) return fail('truncated', 'LLC header cut short');
  if (b[0] !== 0x82 || b[1] !== 0x82 || b[2] !== 0x03)
    return fail('not_bvlc', 'not a BACnet LLC frame (DSAP/SSAP 0x82, control 0x03)');
  return decodeNpduApdu(b.subarray(3));
}
