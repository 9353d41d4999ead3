/**
 * The two PDU bodies of the Modbus Application Protocol V1.1b3 with nested structure: file record
 * sub-requests and sub-responses (§6.14, §6.15) and the Read Device Identification response
 * (§6.21). Split from pdu-decode.ts to keep each file about one thing. Pure; never throws.
 */
import type { DeviceIdObject, FileRecord, ModbusError } from './types.ts';

type Result<T> = ({ ok: true } & T) | { ok: false; error: ModbusError };

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

function fail(message: string): { ok: false; error: ModbusError } {
  return { ok: false, error: { code: 'truncated', message } };
}

/**
 * `read`: 7-byte sub-requests (reference type 6, file, record, length).
 * `write`: the same header followed by `length` registers (requests and their echo).
 * `read_response`: sub-responses of (length, reference type, registers).
 */
export function decodeFileRecords(
  body: Uint8Array,
  shape: 'read' | 'write' | 'read_response',
): Result<{ records: FileRecord[] }> {
  const records: FileRecord[] = [];
  let off = 0;
  while (off < body.length) {
    if (shape === 'read_response') {
      const len = body[off]!;
      if (len < 1 || off + 1 + len > body.length) return fail(`file sub-response of ${len} bytes cut short`);
      const values: number[] = [];
      for (let i = off + 2; i + 1 < off + 1 + len; i += 2) values.push(u16(body, i));
      records.push({ referenceType: body[off + 1]!, values });
      off += 1 + len;
      continue;
    }
    if (off + 7 > body.length) return fail('file sub-request cut short');
    const record: FileRecord = {
      referenceType: body[off]!,
      fileNumber: u16(body, off + 1),
      recordNumber: u16(body, off + 3),
      recordLength: u16(body, off + 5),
    };
    off += 7;
    if (shape === 'write') {
      const n = record.recordLength!;
      if (off + n * 2 > body.length) return fail(`file record of ${n} registers cut short`);
      const values: number[] = [];
      for (let i = 0; i < n; i++) values.push(u16(body, off + i * 2));
      record.values = values;
      off += n * 2;
    }
    records.push(record);
  }
  return { ok: true, records };
}

const latin1 = new TextDecoder('latin1');

export interface DeviceIdFields {
  readDeviceIdCode: number;
  conformityLevel: number;
  moreFollows: boolean;
  nextObjectId: number;
  objects: DeviceIdObject[];
}

/** §6.21: code, conformity level, more follows, next object id, number of objects, objects. */
export function decodeDeviceId(b: Uint8Array): Result<{ value: DeviceIdFields }> {
  if (b.length < 5) return fail('read device identification response cut short');
  const value: DeviceIdFields = {
    readDeviceIdCode: b[0]!,
    conformityLevel: b[1]!,
    moreFollows: b[2] === 0xff,
    nextObjectId: b[3]!,
    objects: [],
  };
  const count = b[4]!;
  let off = 5;
  for (let i = 0; i < count; i++) {
    if (off + 2 > b.length) return fail(`device identification object ${i} cut short`);
    const len = b[off + 1]!;
    if (off + 2 + len > b.length) return fail(`device identification object ${i} value cut short`);
    value.objects.push({ id: b[off]!, value: latin1.decode(b.subarray(off + 2, off + 2 + len)) });
    off += 2 + len;
  }
  return { ok: true, value };
}
