/**
 * Builds Modbus PDUs (Modbus Application Protocol V1.1b3 §6): the requests a master sends, the
 * normal responses a server gives, and exception responses (§7). Used by the proxy's enforce
 * mode (answering a denied request with an exception), the PLC simulator and the property tests
 * (encode → decode gives the same values back).
 */

export type ModbusRequestSpec =
  | { function: 1 | 2 | 3 | 4; address: number; quantity: number }
  | { function: 5; address: number; value: boolean }
  | { function: 6; address: number; value: number }
  | { function: 7 | 11 | 12 | 17 }
  | { function: 8; subFunction: number; data?: Uint8Array }
  | { function: 15; address: number; values: number[] }
  | { function: 16; address: number; values: number[] }
  | { function: 22; address: number; andMask: number; orMask: number }
  | { function: 23; readAddress: number; readQuantity: number; writeAddress: number; values: number[] }
  | { function: 24; address: number }
  | { function: 43; meiType: 14; readDeviceIdCode: number; objectId: number }
  | { function: number; raw: Uint8Array };

function be16(out: number[], v: number): void {
  out.push((v >> 8) & 0xff, v & 0xff);
}

function packBits(values: number[]): number[] {
  const out = new Array<number>(Math.ceil(values.length / 8)).fill(0);
  values.forEach((v, i) => {
    if (v) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

export function encodeRequest(spec: ModbusRequestSpec): Uint8Array {
  const out: number[] = [spec.function];
  if ('raw' in spec) return Uint8Array.from([spec.function, ...spec.raw]);
  switch (spec.function) {
    case 1:
    case 2:
    case 3:
    case 4:
      be16(out, spec.address);
      be16(out, spec.quantity);
      break;
    case 5:
      be16(out, spec.address);
      be16(out, spec.value ? 0xff00 : 0);
      break;
    case 6:
      be16(out, spec.address);
      be16(out, spec.value);
      break;
    case 8:
      be16(out, spec.subFunction);
      out.push(...(spec.data ?? [0, 0]));
      break;
    case 15: {
      const packed = packBits(spec.values);
      be16(out, spec.address);
      be16(out, spec.values.length);
      out.push(packed.length, ...packed);
      break;
    }
    case 16:
      be16(out, spec.address);
      be16(out, spec.values.length);
      out.push(spec.values.length * 2);
      for (const v of spec.values) be16(out, v);
      break;
    case 22:
      be16(out, spec.address);
      be16(out, spec.andMask);
      be16(out, spec.orMask);
      break;
    case 23:
      be16(out, spec.readAddress);
      be16(out, spec.readQuantity);
      be16(out, spec.writeAddress);
      be16(out, spec.values.length);
      out.push(spec.values.length * 2);
      for (const v of spec.values) be16(out, v);
      break;
    case 24:
      be16(out, spec.address);
      break;
    case 43:
      out.push(spec.meiType, spec.readDeviceIdCode, spec.objectId);
      break;
    default:
      break;
  }
  return Uint8Array.from(out);
}

/** §6.1–§6.4 normal response to a read: packed bits for 1 and 2, registers for 3 and 4. */
export function encodeReadResponse(fc: 1 | 2 | 3 | 4, values: number[]): Uint8Array {
  if (fc <= 2) {
    const packed = packBits(values);
    return Uint8Array.from([fc, packed.length, ...packed]);
  }
  const out: number[] = [fc, values.length * 2];
  for (const v of values) be16(out, v);
  return Uint8Array.from(out);
}

/** §6.11/§6.12 normal response to a multiple write: address and quantity. */
export function encodeWriteMultipleResponse(fc: 15 | 16, address: number, quantity: number): Uint8Array {
  const out: number[] = [fc];
  be16(out, address);
  be16(out, quantity);
  return Uint8Array.from(out);
}

/** §7: function code + 0x80, then the exception code. */
export function encodeException(fc: number, exceptionCode: number): Uint8Array {
  return Uint8Array.from([(fc | 0x80) & 0xff, exceptionCode & 0xff]);
}
