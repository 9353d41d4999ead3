/**
 * EtherNet/IP encapsulation (CIP Vol. 2 §2-3): the 24-byte header, the Common Packet Format items
 * (§2-6) of SendRRData and SendUnitData with the CIP message they carry, the List Identity reply
 * (§2-4.3), implicit I/O datagrams on UDP 2222 (CPF only: a sequenced address item and connected
 * data, §2-6.3.3), and a stream deframer that cuts a TCP byte stream into encapsulation messages
 * however it was segmented. Framing is separate from message decoding. Never throws: a header
 * whose length exceeds the spec's 65511 bytes is a typed error and the buffered bytes are dropped
 * (TCP gives no way to find the next header inside garbage), so a peer cannot make the deframer
 * buffer without end.
 */
import { decodeCip } from './cip.ts';
import { COMMAND_NAMES, CPF_ITEM } from './names.ts';
import {
  CIP_IO_PORT,
  type CpfItem,
  ENCAP_HEADER_BYTES,
  type EncapHeader,
  ENIP_PORT,
  type EnipDirection,
  type EnipError,
  type EnipIdentity,
  type EnipPdu,
  type EnipResult,
  enipError,
  MAX_CPF_ITEMS,
  MAX_ENCAP_DATA_BYTES,
  u16le,
  u32le,
} from './types.ts';

const SEND_RR_DATA = 0x6f;
const SEND_UNIT_DATA = 0x70;
const LIST_IDENTITY = 0x63;
const latin1 = new TextDecoder('latin1');

export function readEncapHeader(b: Uint8Array, at = 0): EncapHeader {
  let ctx = '';
  for (let i = at + 12; i < at + 20; i++) ctx += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return {
    command: u16le(b, at),
    length: u16le(b, at + 2),
    sessionHandle: u32le(b, at + 4),
    status: u32le(b, at + 8),
    senderContext: ctx,
    options: u32le(b, at + 20),
  };
}

/** Common Packet Format (§2-6.1): an item count, then type id, length, data for each item. */
export function parseCpf(b: Uint8Array): EnipResult<CpfItem[]> {
  if (b.length < 2) return enipError('truncated', 'no CPF item count');
  const count = u16le(b, 0);
  if (count > MAX_CPF_ITEMS)
    return enipError('too_many_items', `${count} CPF items (at most ${MAX_CPF_ITEMS})`);
  const items: CpfItem[] = [];
  let off = 2;
  for (let i = 0; i < count; i++) {
    if (off + 4 > b.length) return enipError('truncated', `CPF item ${i} header missing`);
    const typeId = u16le(b, off);
    const len = u16le(b, off + 2);
    if (off + 4 + len > b.length)
      return enipError(
        'invalid_item',
        `CPF item 0x${typeId.toString(16)} of ${len} bytes overruns the message`,
      );
    items.push({ typeId, data: b.subarray(off + 4, off + 4 + len) });
    off += 4 + len;
  }
  return { ok: true, value: items };
}

/** List Identity item (§2-4.3.2 Table 2-4.4); socket address fields are big-endian. */
export function parseIdentity(d: Uint8Array): EnipIdentity | null {
  if (d.length < 33) return null;
  const nameLen = d[32]!;
  if (33 + nameLen > d.length) return null;
  return {
    encapsulationVersion: u16le(d, 0),
    socketPort: (d[4]! << 8) | d[5]!,
    socketAddress: `${d[6]}.${d[7]}.${d[8]}.${d[9]}`,
    vendorId: u16le(d, 18),
    deviceType: u16le(d, 20),
    productCode: u16le(d, 22),
    revision: `${d[24]}.${d[25]}`,
    status: u16le(d, 26),
    serialNumber: u32le(d, 28),
    productName: latin1.decode(d.subarray(33, 33 + nameLen)),
    state: d[33 + nameLen] ?? 0xff,
  };
}

/** Decodes one whole encapsulation message (a deframed TCP message or a UDP 44818 datagram). */
export function decodeEncap(b: Uint8Array): EnipResult<EnipPdu> {
  if (b.length < ENCAP_HEADER_BYTES) return enipError('truncated', `${b.length} bytes, header needs 24`);
  const header = readEncapHeader(b);
  if (header.length !== b.length - ENCAP_HEADER_BYTES)
    return enipError(
      'invalid_length',
      `length ${header.length} but ${b.length - 24} bytes follow the header`,
    );
  if (COMMAND_NAMES[header.command] === undefined)
    return enipError('unknown_command', `encapsulation command 0x${header.command.toString(16)}`);
  const pdu: EnipPdu = { type: 'encap', header, items: [], anomalies: [] };
  // §2-3.1: options shall be zero; a receiver discards a message whose options are not.
  if (header.options !== 0) pdu.anomalies.push('options_not_zero');
  const body = b.subarray(ENCAP_HEADER_BYTES);
  const cmd = header.command;
  if (cmd === SEND_RR_DATA || cmd === SEND_UNIT_DATA) {
    // §2-4.7/§2-4.8: interface handle (4), timeout (2), then the CPF.
    if (body.length < 6) return enipError('truncated', 'SendRRData/SendUnitData without interface handle');
    const cpf = parseCpf(body.subarray(6));
    if (!cpf.ok) return cpf;
    pdu.items = cpf.value;
    return carried(pdu, cmd === SEND_UNIT_DATA);
  }
  if (cmd === LIST_IDENTITY && body.length > 0) {
    const cpf = parseCpf(body);
    if (!cpf.ok) return cpf;
    pdu.items = cpf.value;
    const identities: EnipIdentity[] = [];
    for (const item of cpf.value) {
      if (item.typeId !== CPF_ITEM.LIST_IDENTITY) continue;
      const id = parseIdentity(item.data);
      if (id) identities.push(id);
      else pdu.anomalies.push('invalid_identity_item');
    }
    pdu.identities = identities;
  }
  return { ok: true, value: pdu };
}

/** The CIP message in the data item, with the connection id and sequence count when connected. */
function carried(pdu: EnipPdu, connected: boolean): EnipResult<EnipPdu> {
  for (const item of pdu.items) {
    if (item.typeId === CPF_ITEM.CONNECTED_ADDRESS && item.data.length >= 4)
      pdu.connectionId = u32le(item.data, 0);
    else if (item.typeId === CPF_ITEM.CONNECTED_DATA || item.typeId === CPF_ITEM.UNCONNECTED_DATA) {
      let data = item.data;
      if (item.typeId === CPF_ITEM.CONNECTED_DATA) {
        // Class 3 connected data starts with a 16-bit CIP sequence count (Vol. 2 §2-6.3.2).
        if (data.length < 2) return enipError('truncated', 'connected data item without sequence count');
        pdu.sequenceCount = u16le(data, 0);
        data = data.subarray(2);
      }
      const cip = decodeCip(data);
      if (!cip.ok) return cip;
      pdu.cip = cip.value;
    }
  }
  if (connected && pdu.connectionId === undefined) pdu.anomalies.push('no_connected_address');
  if (!pdu.cip) pdu.anomalies.push('no_cip_message');
  return { ok: true, value: pdu };
}

/** An implicit I/O datagram (UDP 2222, §2-6.3.3): CPF with a sequenced address item and its data. */
export function decodeIo(b: Uint8Array): EnipResult<EnipPdu> {
  const cpf = parseCpf(b);
  if (!cpf.ok) return cpf;
  const pdu: EnipPdu = { type: 'io', items: cpf.value, anomalies: [] };
  for (const item of cpf.value) {
    if (item.typeId === CPF_ITEM.SEQUENCED_ADDRESS && item.data.length >= 8) {
      pdu.connectionId = u32le(item.data, 0);
      pdu.ioSequence = u32le(item.data, 4);
    } else if (item.typeId === CPF_ITEM.CONNECTED_DATA) pdu.ioData = item.data;
  }
  if (pdu.connectionId === undefined)
    return enipError('invalid_item', 'I/O datagram without a sequenced address item');
  return { ok: true, value: pdu };
}

export interface EncapFramingError extends EnipError {
  /** The bytes dropped to resynchronise (at most 256 kept, for the event's preview). */
  skipped: Uint8Array;
}

export interface EncapDeframer {
  /** Feeds the next chunk of one direction's stream; returns the complete messages it finished. */
  push(chunk: Uint8Array): { messages: Uint8Array[]; errors: EncapFramingError[] };
  /** Discards buffered bytes (after a gap: what follows cannot continue them). */
  reset(): void;
  buffered(): number;
}

/**
 * Messages are views into the pushed chunk (or a private copy when one spans chunks): handle them
 * before reusing the chunk's memory. Buffering is bounded by one header plus 65511 bytes.
 */
export function createEncapDeframer(): EncapDeframer {
  let buf: Uint8Array = new Uint8Array(0);
  return {
    push(chunk) {
      const messages: Uint8Array[] = [];
      const errors: EncapFramingError[] = [];
      if (chunk.length === 0) return { messages, errors };
      if (buf.length === 0) buf = chunk;
      else {
        const next = new Uint8Array(buf.length + chunk.length);
        next.set(buf);
        next.set(chunk, buf.length);
        buf = next;
      }
      let off = 0;
      while (buf.length - off >= ENCAP_HEADER_BYTES) {
        const length = u16le(buf, off + 2);
        if (length > MAX_ENCAP_DATA_BYTES) {
          errors.push({
            code: 'invalid_length',
            message: `encapsulation length ${length} over ${MAX_ENCAP_DATA_BYTES}`,
            skipped: buf.slice(off, Math.min(buf.length, off + 256)),
          });
          off = buf.length;
          break;
        }
        const end = off + ENCAP_HEADER_BYTES + length;
        if (end > buf.length) break;
        messages.push(buf.subarray(off, end));
        off = end;
      }
      buf = off === buf.length ? new Uint8Array(0) : buf.slice(off);
      return { messages, errors };
    },
    reset() {
      buf = new Uint8Array(0);
    },
    buffered: () => buf.length,
  };
}

/**
 * A UDP datagram on the EtherNet/IP ports: implicit I/O when either port is 2222 (CPF only),
 * else an encapsulation message (List Identity and other UDP 44818 commands, Vol. 2 §2-4).
 * `request` is a datagram towards port 44818 (or 2222: the consumer); replies come from it.
 */
export function decodeEnipDatagram(
  payload: Uint8Array,
  ports: { srcPort: number; dstPort: number },
): { io: boolean; direction: EnipDirection; result: EnipResult<EnipPdu> } {
  const io = ports.dstPort === CIP_IO_PORT || ports.srcPort === CIP_IO_PORT;
  const server = io ? CIP_IO_PORT : ENIP_PORT;
  const direction: EnipDirection = ports.dstPort === server ? 'request' : 'response';
  return { io, direction, result: io ? decodeIo(payload) : decodeEncap(payload) };
}
