/**
 * Hand-built S7comm frames for the codec's tests (written from the layouts in
 * protocols/s7comm/pdu-decode.ts, not copied from a capture): TPKT + COTP DT around an S7 PDU,
 * and a few PDUs of each kind a controller sees.
 */
import { encodeTpkt } from '../../../protocols/s7comm/index.ts';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** COTP DT (LI 2, code 0xf0, EOT set unless `last` is false) carrying `pdu`, in a TPKT. */
export function dt(pdu: Uint8Array, last = true): Uint8Array {
  return encodeTpkt(Uint8Array.from([2, 0xf0, last ? 0x80 : 0x00, ...pdu]));
}

/** An S7 header (0x32) with its parameter and data parts; Ack/Ack_Data get error class/code. */
export function s7(
  rosctr: number,
  ref: number,
  param: Uint8Array,
  data: Uint8Array = new Uint8Array(0),
  err?: [number, number],
) {
  const h = [
    0x32,
    rosctr,
    0,
    0,
    ref >> 8,
    ref & 0xff,
    param.length >> 8,
    param.length & 0xff,
    data.length >> 8,
    data.length & 0xff,
  ];
  if (rosctr === 2 || rosctr === 3) h.push(...(err ?? [0, 0]));
  return Uint8Array.from([...h, ...param, ...data]);
}

/** CR from TSAP 0x0100 to 0x0102 (rack 0, slot 2), TPDU size 1024. */
export const CR = encodeTpkt(hex('11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102'));
export const SETUP = s7(1, 1, hex('f0 00 0001 0001 01e0'));
/** Read var: one item, DB 1, byte 2, 4 bytes (S7ANY: 12 0a 10 02 0004 0001 84 000010). */
export const READ_DB = s7(1, 2, hex('04 01 12 0a 10 02 0004 0001 84 000010'));
export const READ_DB_ACK = s7(3, 2, hex('04 01'), hex('ff 04 0020 0102 0304'));
/** Write var: one item, M 16.0, one byte = 0x01. */
export const WRITE_M = s7(1, 3, hex('05 01 12 0a 10 02 0001 0000 83 000080'), hex('00 04 0008 01'));
/** PLC stop (function 0x29, service P_PROGRAM). */
export const PLC_STOP = s7(1, 4, hex('29 0000000000 09 505f50524f4752414d'));
/** PI service P_PROGRAM: the start (warm restart) of the program. */
export const PLC_START = s7(1, 5, hex('28 000000000000fd 0000 09 505f50524f4752414d'));
/** Request download of OB1 ("_0800001P", passive file system), load and MC7 lengths. */
export const DOWNLOAD = s7(
  1,
  6,
  Uint8Array.from([
    ...hex('1a 00 0100 00000000 09'),
    ...Buffer.from('_0800001P'),
    13,
    ...Buffer.from('1000256000128'),
  ]),
);
/** Userdata Read SZL 0x0011 index 0 (CPU functions, sub-function 1). */
export const READ_SZL = s7(7, 7, hex('000112 04 11 44 01 00'), hex('ff 09 0004 0011 0000'));
