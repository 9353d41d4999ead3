/**
 * Modbus/TCP framing: the MBAP header (Modbus Messaging on TCP/IP Implementation Guide V1.0b
 * §3.1.3) and a stream deframer that cuts a TCP byte stream into ADUs however it was segmented.
 * Framing is separate from PDU decoding (pdu-decode.ts). The deframer never throws: a header that
 * cannot be Modbus (protocol id not 0, length outside 2..254) is reported as a typed error with the
 * bytes it skipped, and the deframer resynchronises on the next chunk, so one bad peer cannot wedge
 * a connection or make it buffer without end.
 */
import { type MbapHeader, type ModbusAdu, type ModbusError, MAX_PDU_BYTES } from './types.ts';

export const MBAP_HEADER_BYTES = 7;
/** §3.1.3: the length field counts the unit id and the PDU: 1 + at most 253. */
export const MAX_MBAP_LENGTH = MAX_PDU_BYTES + 1;

export function readMbapHeader(b: Uint8Array, at = 0): MbapHeader {
  return {
    transactionId: (b[at]! << 8) | b[at + 1]!,
    protocolId: (b[at + 2]! << 8) | b[at + 3]!,
    length: (b[at + 4]! << 8) | b[at + 5]!,
    unitId: b[at + 6]!,
  };
}

/** Why a header cannot start a Modbus ADU, or null when it can. */
export function checkMbapHeader(h: MbapHeader): ModbusError | null {
  // §3.1.3: protocol identifier 0 = MODBUS protocol.
  if (h.protocolId !== 0)
    return { code: 'invalid_protocol_id', message: `MBAP protocol id ${h.protocolId}, expected 0` };
  // A PDU has at least its function code, and at most 253 bytes (Application Protocol §4.1).
  if (h.length < 2 || h.length > MAX_MBAP_LENGTH)
    return { code: 'invalid_length', message: `MBAP length ${h.length} outside 2..${MAX_MBAP_LENGTH}` };
  return null;
}

export function encodeMbap(header: Omit<MbapHeader, 'length' | 'protocolId'>, pdu: Uint8Array): Uint8Array {
  const out = new Uint8Array(MBAP_HEADER_BYTES + pdu.length);
  const length = pdu.length + 1;
  out[0] = header.transactionId >> 8;
  out[1] = header.transactionId & 0xff;
  out[4] = length >> 8;
  out[5] = length & 0xff;
  out[6] = header.unitId;
  out.set(pdu, MBAP_HEADER_BYTES);
  return out;
}

/** Parses a buffer holding exactly one ADU (a datagram, a test vector). */
export function parseAdu(
  bytes: Uint8Array,
): { ok: true; adu: ModbusAdu } | { ok: false; error: ModbusError } {
  if (bytes.length < MBAP_HEADER_BYTES + 1)
    return { ok: false, error: { code: 'truncated', message: `ADU of ${bytes.length} bytes is too short` } };
  const header = readMbapHeader(bytes);
  const bad = checkMbapHeader(header);
  if (bad) return { ok: false, error: bad };
  if (header.length - 1 !== bytes.length - MBAP_HEADER_BYTES)
    return {
      ok: false,
      error: {
        code: 'invalid_length',
        message: `MBAP length ${header.length} does not match ${bytes.length - 6} bytes present`,
      },
    };
  return { ok: true, adu: { header, pdu: bytes.subarray(MBAP_HEADER_BYTES) } };
}

export interface MbapFramingError extends ModbusError {
  /** The bytes skipped to resynchronise (at most 256 kept, for the event's preview). */
  skipped: Uint8Array;
}

export interface MbapDeframeResult {
  adus: ModbusAdu[];
  errors: MbapFramingError[];
}

export interface MbapDeframer {
  /** Feeds the next chunk of the stream; returns the complete ADUs it finished. */
  push(chunk: Uint8Array): MbapDeframeResult;
  /** Discards buffered bytes (after a gap in a capture: what follows cannot continue them). */
  reset(): void;
  /** Bytes waiting for the rest of an ADU. */
  buffered(): number;
}

const EMPTY: MbapDeframeResult = { adus: [], errors: [] };
/** Shared by every deframer with nothing held (never written to). */
const NO_BYTES = new Uint8Array(0);

/**
 * A deframer for one direction of one connection. ADUs are views into the pushed chunk (or a
 * private copy when an ADU spans chunks): handle them before reusing the chunk's memory. After an invalid header the rest of the buffered bytes are dropped and reported: TCP
 * gives no way to find the next header inside garbage, and Modbus peers send one ADU per segment.
 */
export function createMbapDeframer(): MbapDeframer {
  let buf: Uint8Array = NO_BYTES;
  return {
    push(chunk) {
      if (chunk.length === 0) return EMPTY;
      // Without leftovers, parse the chunk in place: ADUs are views into it (no copy per chunk).
      if (buf.length === 0) buf = chunk;
      else {
        const next = new Uint8Array(buf.length + chunk.length);
        next.set(buf);
        next.set(chunk, buf.length);
        buf = next;
      }
      const adus: ModbusAdu[] = [];
      const errors: MbapFramingError[] = [];
      let off = 0;
      while (buf.length - off >= MBAP_HEADER_BYTES) {
        const header = readMbapHeader(buf, off);
        const bad = checkMbapHeader(header);
        if (bad) {
          errors.push({ ...bad, skipped: buf.slice(off, Math.min(buf.length, off + 256)) });
          off = buf.length;
          break;
        }
        const end = off + 6 + header.length;
        if (end > buf.length) break;
        adus.push({ header, pdu: buf.subarray(off + MBAP_HEADER_BYTES, end) });
        off = end;
      }
      // Keep a copy of a partial ADU: the caller may reuse its chunk once it has been handled.
      buf = off === buf.length ? NO_BYTES : buf.slice(off);
      return adus.length === 0 && errors.length === 0 ? EMPTY : { adus, errors };
    },
    reset() {
      buf = NO_BYTES;
    },
    buffered: () => buf.length,
  };
}
