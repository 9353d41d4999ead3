/**
 * Modbus RTU framing (Modbus over Serial Line Specification V1.02 §2.5.1): address, PDU, CRC-16
 * (polynomial 0xA001 reflected, initial 0xFFFF, low byte first, §6.2.2). The poller talks RTU
 * through modbus-serial; this codec lets captures of serial lines and the tests check frames.
 * Pure; never throws.
 */
import type { ModbusError } from './types.ts';

export interface RtuFrame {
  address: number;
  pdu: Uint8Array;
}

export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function encodeRtu(address: number, pdu: Uint8Array): Uint8Array {
  const out = new Uint8Array(pdu.length + 3);
  out[0] = address;
  out.set(pdu, 1);
  const crc = crc16Modbus(out.subarray(0, pdu.length + 1));
  out[pdu.length + 1] = crc & 0xff;
  out[pdu.length + 2] = crc >> 8;
  return out;
}

export function parseRtu(
  frame: Uint8Array,
): { ok: true; frame: RtuFrame } | { ok: false; error: ModbusError } {
  // §2.5.1.1: address (1) + function code (1) + CRC (2) at least; 256 bytes at most.
  if (frame.length < 4)
    return { ok: false, error: { code: 'truncated', message: `RTU frame of ${frame.length} bytes` } };
  if (frame.length > 256)
    return {
      ok: false,
      error: { code: 'pdu_too_large', message: `RTU frame of ${frame.length} bytes exceeds 256` },
    };
  const body = frame.subarray(0, frame.length - 2);
  const crc = frame[frame.length - 2]! | (frame[frame.length - 1]! << 8);
  if (crc16Modbus(body) !== crc)
    return { ok: false, error: { code: 'invalid_crc', message: 'RTU CRC mismatch' } };
  return { ok: true, frame: { address: frame[0]!, pdu: frame.subarray(1, frame.length - 2) } };
}
