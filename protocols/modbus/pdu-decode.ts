/**
 * Decodes a Modbus PDU (function code + data) into a `ModbusPdu`, for every public function code of
 * the Modbus Application Protocol Specification V1.1b3 (§6.1–§6.21) in both directions, and
 * exception responses (§7). Unknown and vendor codes (e.g. 90, Schneider UMAS) are kept as raw
 * data. Structural damage (too few bytes, a byte count that disagrees with the bytes present)
 * is a typed error; a spec violation that still decodes (quantity out of range, a coil value
 * other than 0x0000/0xFF00) is listed in `anomalies`. Pure; never throws.
 */
import { decodeFileRecords, decodeDeviceId } from './pdu-complex.ts';
import {
  MAX_PDU_BYTES,
  MEI_READ_DEVICE_ID,
  type ModbusDirection,
  type ModbusPdu,
  type ModbusPduResult,
  modbusError,
} from './types.ts';

export interface DecodeOptions {
  /** The matching request, when known: gives responses their address and bit count. */
  request?: ModbusPdu;
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

function words(b: Uint8Array, at: number, count: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = u16(b, at + i * 2);
  return out;
}

/** Coils and discrete inputs are packed LSB first (§6.1). */
function bits(b: Uint8Array, at: number, count: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = (b[at + (i >> 3)]! >> (i & 7)) & 1;
  return out;
}

function truncated(what: string, need: number, have: number): ModbusPduResult {
  return modbusError('truncated', `${what} needs ${need} bytes, ${have} present`);
}

function range(pdu: ModbusPdu, name: string, value: number, min: number, max: number): void {
  if (value < min || value > max) pdu.anomalies.push(`${name}_out_of_range`);
}

/** Decodes one PDU. `bytes[0]` is the function code. */
export function decodePdu(
  bytes: Uint8Array,
  direction: ModbusDirection,
  options: DecodeOptions = {},
): ModbusPduResult {
  if (bytes.length === 0) return modbusError('empty_pdu', 'PDU has no function code');
  if (bytes.length > MAX_PDU_BYTES)
    return modbusError('pdu_too_large', `PDU of ${bytes.length} bytes exceeds ${MAX_PDU_BYTES} (§4.1)`);
  const functionCode = bytes[0]!;
  const d = bytes.subarray(1);
  const exception = direction === 'response' && functionCode >= 0x80;
  const pdu: ModbusPdu = {
    direction,
    functionCode,
    function: functionCode & 0x7f,
    exception,
    data: d,
    anomalies: [],
  };
  if (functionCode === 0) pdu.anomalies.push('function_code_zero');
  if (exception) {
    // §7: an exception response is the function code + 0x80 and one exception code.
    if (d.length < 1) return truncated('exception response', 2, bytes.length);
    pdu.exceptionCode = d[0]!;
    if (d.length > 1) pdu.anomalies.push('trailing_bytes');
    return { ok: true, pdu };
  }
  if (direction === 'request' && functionCode >= 0x80) pdu.anomalies.push('exception_bit_in_request');
  return direction === 'request' ? request(pdu, d) : response(pdu, d, options.request);
}

function request(pdu: ModbusPdu, d: Uint8Array): ModbusPduResult {
  const fc = pdu.functionCode;
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      // §6.1–§6.4: starting address, quantity (bits 1..2000, registers 1..125).
      if (d.length < 4) return truncated('read request', 5, d.length + 1);
      pdu.address = u16(d, 0);
      pdu.quantity = u16(d, 2);
      range(pdu, 'quantity', pdu.quantity, 1, fc <= 2 ? 2000 : 125);
      break;
    }
    case 5:
    case 6: {
      // §6.5: output value 0xFF00 (on) or 0x0000 (off), anything else is illegal. §6.6: any value.
      if (d.length < 4) return truncated('write single request', 5, d.length + 1);
      pdu.address = u16(d, 0);
      const value = u16(d, 2);
      if (fc === 5) {
        if (value !== 0 && value !== 0xff00) pdu.anomalies.push('invalid_coil_value');
        pdu.values = [value === 0xff00 ? 1 : 0];
        pdu.data = d.subarray(2, 4);
      } else pdu.values = [value];
      break;
    }
    case 8:
      // §6.8: sub-function, then data (its meaning depends on the sub-function).
      if (d.length < 2) return truncated('diagnostics request', 3, d.length + 1);
      pdu.subFunction = u16(d, 0);
      pdu.data = d.subarray(2);
      break;
    case 15:
    case 16: {
      // §6.11/§6.12: address, quantity, byte count, values.
      if (d.length < 5) return truncated('write multiple request', 6, d.length + 1);
      pdu.address = u16(d, 0);
      pdu.quantity = u16(d, 2);
      pdu.byteCount = d[4]!;
      if (d.length - 5 < pdu.byteCount)
        return truncated('write multiple values', pdu.byteCount, d.length - 5);
      if (fc === 15) {
        range(pdu, 'quantity', pdu.quantity, 1, 0x7b0);
        if (pdu.byteCount !== Math.ceil(pdu.quantity / 8)) pdu.anomalies.push('byte_count_mismatch');
        pdu.values = bits(d, 5, Math.min(pdu.quantity, pdu.byteCount * 8));
      } else {
        range(pdu, 'quantity', pdu.quantity, 1, 123);
        if (pdu.byteCount !== pdu.quantity * 2) pdu.anomalies.push('byte_count_mismatch');
        pdu.values = words(d, 5, Math.min(pdu.quantity, pdu.byteCount >> 1));
      }
      break;
    }
    case 20:
    case 21: {
      // §6.14/§6.15: byte count, then sub-requests of reference type 6.
      if (d.length < 1) return truncated('file record request', 2, d.length + 1);
      pdu.byteCount = d[0]!;
      if (d.length - 1 < pdu.byteCount) return truncated('file record data', pdu.byteCount, d.length - 1);
      const records = decodeFileRecords(d.subarray(1, 1 + pdu.byteCount), fc === 20 ? 'read' : 'write');
      if (!records.ok) return records;
      pdu.fileRecords = records.records;
      break;
    }
    case 22:
      // §6.16: reference address, AND mask, OR mask.
      if (d.length < 6) return truncated('mask write request', 7, d.length + 1);
      pdu.address = u16(d, 0);
      pdu.andMask = u16(d, 2);
      pdu.orMask = u16(d, 4);
      break;
    case 23: {
      // §6.17: read address, read quantity (1..125), write address, write quantity (1..121), byte count, values.
      if (d.length < 9) return truncated('read/write request', 10, d.length + 1);
      pdu.readAddress = u16(d, 0);
      pdu.readQuantity = u16(d, 2);
      pdu.writeAddress = u16(d, 4);
      pdu.writeQuantity = u16(d, 6);
      pdu.byteCount = d[8]!;
      range(pdu, 'read_quantity', pdu.readQuantity, 1, 125);
      range(pdu, 'write_quantity', pdu.writeQuantity, 1, 121);
      if (d.length - 9 < pdu.byteCount) return truncated('read/write values', pdu.byteCount, d.length - 9);
      if (pdu.byteCount !== pdu.writeQuantity * 2) pdu.anomalies.push('byte_count_mismatch');
      pdu.values = words(d, 9, Math.min(pdu.writeQuantity, pdu.byteCount >> 1));
      break;
    }
    case 24:
      // §6.18: FIFO pointer address.
      if (d.length < 2) return truncated('read FIFO request', 3, d.length + 1);
      pdu.address = u16(d, 0);
      break;
    case 43:
      // §6.19–§6.21: MEI type; 14 = read device identification code and object id.
      if (d.length < 1) return truncated('MEI request', 2, d.length + 1);
      pdu.meiType = d[0]!;
      pdu.data = d.subarray(1);
      if (pdu.meiType === MEI_READ_DEVICE_ID) {
        if (d.length < 3) return truncated('read device identification request', 4, d.length + 1);
        pdu.readDeviceIdCode = d[1]!;
        pdu.objectId = d[2]!;
        range(pdu, 'read_device_id_code', pdu.readDeviceIdCode, 1, 4);
      }
      break;
    case 7:
    case 11:
    case 12:
    case 17:
      // §6.7, §6.9, §6.10, §6.13: no data.
      if (d.length > 0) pdu.anomalies.push('trailing_bytes');
      break;
    default:
      // Unknown, reserved and vendor codes: kept raw.
      break;
  }
  return { ok: true, pdu };
}

function response(pdu: ModbusPdu, d: Uint8Array, req: ModbusPdu | undefined): ModbusPduResult {
  const fc = pdu.functionCode;
  const matched = req !== undefined && req.function === fc && !req.exception;
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      // §6.1–§6.4: byte count, then packed bits or registers.
      if (d.length < 1) return truncated('read response', 2, d.length + 1);
      pdu.byteCount = d[0]!;
      if (d.length - 1 < pdu.byteCount)
        return modbusError('byte_count_mismatch', `byte count ${pdu.byteCount}, ${d.length - 1} present`);
      if (matched) {
        pdu.address = req.address;
        pdu.quantity = req.quantity;
      }
      if (fc <= 2) {
        const n = matched && req.quantity !== undefined ? req.quantity : pdu.byteCount * 8;
        if (matched && Math.ceil(n / 8) !== pdu.byteCount) pdu.anomalies.push('byte_count_mismatch');
        pdu.values = bits(d, 1, Math.min(n, pdu.byteCount * 8));
      } else {
        if (pdu.byteCount % 2 !== 0) pdu.anomalies.push('odd_byte_count');
        if (matched && req.quantity !== undefined && req.quantity * 2 !== pdu.byteCount)
          pdu.anomalies.push('byte_count_mismatch');
        pdu.values = words(d, 1, pdu.byteCount >> 1);
      }
      break;
    }
    case 5:
    case 6:
    case 15:
    case 16:
    case 22:
      // §6.5, §6.6, §6.16: an echo of the request; §6.11, §6.12: address and quantity.
      if (d.length < (fc === 22 ? 6 : 4)) return truncated('write response', fc === 22 ? 7 : 5, d.length + 1);
      pdu.address = u16(d, 0);
      if (fc === 5) {
        const value = u16(d, 2);
        if (value !== 0 && value !== 0xff00) pdu.anomalies.push('invalid_coil_value');
        pdu.values = [value === 0xff00 ? 1 : 0];
      } else if (fc === 6) pdu.values = [u16(d, 2)];
      else if (fc === 22) {
        pdu.andMask = u16(d, 2);
        pdu.orMask = u16(d, 4);
      } else pdu.quantity = u16(d, 2);
      break;
    case 7:
      // §6.7: one byte of exception status outputs.
      if (d.length < 1) return truncated('read exception status response', 2, d.length + 1);
      pdu.status = d[0]!;
      break;
    case 8:
      if (d.length < 2) return truncated('diagnostics response', 3, d.length + 1);
      pdu.subFunction = u16(d, 0);
      pdu.data = d.subarray(2);
      break;
    case 11:
      // §6.9: status word, event count.
      if (d.length < 4) return truncated('comm event counter response', 5, d.length + 1);
      pdu.status = u16(d, 0);
      pdu.eventCount = u16(d, 2);
      break;
    case 12:
      // §6.10: byte count, status, event count, message count, events.
      if (d.length < 7) return truncated('comm event log response', 8, d.length + 1);
      pdu.byteCount = d[0]!;
      pdu.status = u16(d, 1);
      pdu.eventCount = u16(d, 3);
      pdu.messageCount = u16(d, 5);
      pdu.data = d.subarray(7, Math.max(7, 1 + pdu.byteCount));
      break;
    case 17:
      // §6.13: byte count, server id (device specific), run indicator (0x00 off, 0xFF on), more data.
      if (d.length < 1) return truncated('report server id response', 2, d.length + 1);
      pdu.byteCount = d[0]!;
      if (d.length - 1 < pdu.byteCount)
        return modbusError('byte_count_mismatch', `byte count ${pdu.byteCount}, ${d.length - 1} present`);
      pdu.data = d.subarray(1, 1 + pdu.byteCount);
      if (pdu.byteCount >= 2) {
        pdu.serverId = d.subarray(1, pdu.byteCount);
        pdu.runIndicator = d[pdu.byteCount]!;
      }
      break;
    case 20:
    case 21: {
      if (d.length < 1) return truncated('file record response', 2, d.length + 1);
      pdu.byteCount = d[0]!;
      if (d.length - 1 < pdu.byteCount) return truncated('file record data', pdu.byteCount, d.length - 1);
      const body = d.subarray(1, 1 + pdu.byteCount);
      const records = decodeFileRecords(body, fc === 20 ? 'read_response' : 'write');
      if (!records.ok) return records;
      pdu.fileRecords = records.records;
      break;
    }
    case 23:
      // §6.17: byte count, read registers.
      if (d.length < 1) return truncated('read/write response', 2, d.length + 1);
      pdu.byteCount = d[0]!;
      if (d.length - 1 < pdu.byteCount)
        return modbusError('byte_count_mismatch', `byte count ${pdu.byteCount}, ${d.length - 1} present`);
      if (matched) {
        pdu.address = req.readAddress;
        pdu.quantity = req.readQuantity;
      }
      pdu.values = words(d, 1, pdu.byteCount >> 1);
      break;
    case 24: {
      // §6.18: byte count (2 bytes), FIFO count (<= 31), values.
      if (d.length < 4) return truncated('read FIFO response', 5, d.length + 1);
      pdu.byteCount = u16(d, 0);
      pdu.fifoCount = u16(d, 2);
      if (pdu.fifoCount > 31) pdu.anomalies.push('fifo_count_out_of_range');
      const n = Math.min(pdu.fifoCount, (d.length - 4) >> 1);
      if (n < pdu.fifoCount) return truncated('read FIFO values', pdu.fifoCount * 2, d.length - 4);
      if (matched) pdu.address = req.address;
      pdu.values = words(d, 4, n);
      break;
    }
    case 43: {
      if (d.length < 1) return truncated('MEI response', 2, d.length + 1);
      pdu.meiType = d[0]!;
      pdu.data = d.subarray(1);
      if (pdu.meiType === MEI_READ_DEVICE_ID) {
        const id = decodeDeviceId(d.subarray(1));
        if (!id.ok) return id;
        Object.assign(pdu, id.value);
      }
      break;
    }
    default:
      break;
  }
  return { ok: true, pdu };
}
