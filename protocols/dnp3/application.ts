/**
 * DNP3 application layer (IEEE 1815-2012 §4.2–4.3): one reassembled fragment → its control octet,
 * function code, IIN (responses), and object headers with their ranges, point indexes and values
 * where the object carries them. Requests that only name objects (READ, freeze, enable/disable
 * unsolicited, assign class) carry no data after each header; everything else does, and the walk
 * needs each object's size (object-sizes.ts). Every count is checked against the octets left
 * before anything is read, and at most MAX_POINTS_PER_HEADER points are copied per header, so a
 * header announcing 2^32 objects costs nothing. Pure; never throws.
 */
import { NO_DATA_GROUPS, objectSpec } from './object-sizes.ts';
import {
  type AppControl,
  DNP3_LIMITS,
  dnp3Error,
  type Dnp3ApduResult,
  type Dnp3Error,
  type Dnp3ObjectHeader,
  type Dnp3Point,
} from './types.ts';

/** Request functions whose object headers are not followed by data (§4.4: READ, freeze, 20–22). */
const HEADERS_ONLY = new Set([1, 7, 8, 9, 10, 20, 21, 22]);

/** Octets of the range field per range specifier code (§4.3.1.4, Table 4-4); -1 = invalid. */
const RANGE_BYTES = [2, 4, 8, 2, 4, 8, 0, 1, 2, 4, -1, 1, -1, -1, -1, -1];
/** Octets of each object's prefix per prefix code (Table 4-3); 4–6 are size prefixes. */
const PREFIX_BYTES = [0, 1, 2, 4, 1, 2, 4, -1];

function uint(b: Uint8Array, at: number, n: number): number {
  if (n === 1) return b[at]!;
  if (n === 2) return b[at]! | (b[at + 1]! << 8);
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

export function readAppControl(ac: number): AppControl {
  return {
    fir: (ac & 0x80) !== 0,
    fin: (ac & 0x40) !== 0,
    con: (ac & 0x20) !== 0,
    uns: (ac & 0x10) !== 0,
    seq: ac & 0x0f,
  };
}

type HeaderResult =
  | { ok: true; header: Dnp3ObjectHeader; next: number }
  /** `header`: what was read of a header whose qualifier is reserved (as tshark lists it). */
  | { ok: false; error: Dnp3Error; header?: Dnp3ObjectHeader };

/** The object header as errors name it; formatted only when one is raised. */
const where = (group: number, variation: number, qualifier: number) =>
  `g${group}v${variation} qualifier 0x${qualifier.toString(16).padStart(2, '0')}`;

function readHeader(b: Uint8Array, at: number, withData: boolean): HeaderResult {
  if (b.length - at < 3) return { ok: false, error: dnp3Error('truncated', 'object header cut short') };
  const group = b[at]!;
  const variation = b[at + 1]!;
  const qualifier = b[at + 2]!;
  const prefixCode = (qualifier >> 4) & 7;
  const rangeCode = qualifier & 0x0f;
  const rangeBytes = RANGE_BYTES[rangeCode]!;
  const prefixBytes = PREFIX_BYTES[prefixCode]!;
  if (rangeBytes < 0 || prefixBytes < 0 || qualifier & 0x80)
    return {
      ok: false,
      error: dnp3Error(
        'bad_qualifier',
        `${where(group, variation, qualifier)}: reserved qualifier (§4.3.1.3)`,
      ),
      header: { group, variation, qualifier, prefixCode, rangeCode, points: [] },
    };
  let off = at + 3;
  if (b.length - off < rangeBytes)
    return {
      ok: false,
      error: dnp3Error('truncated', `${where(group, variation, qualifier)}: range field cut short`),
    };
  const header: Dnp3ObjectHeader = { group, variation, qualifier, prefixCode, rangeCode, points: [] };
  let count = 0;
  if (rangeCode <= 5) {
    const half = rangeBytes / 2;
    header.start = uint(b, off, half);
    header.stop = uint(b, off + half, half);
    if (header.stop < header.start)
      return {
        ok: false,
        error: dnp3Error(
          'bad_range',
          `${where(group, variation, qualifier)}: stop ${header.stop} < start ${header.start}`,
        ),
      };
    count = header.stop - header.start + 1;
    header.count = count;
  } else if (rangeCode !== 6) {
    count = uint(b, off, rangeBytes);
    header.count = count;
  }
  off += rangeBytes;
  const max = DNP3_LIMITS.MAX_POINTS_PER_HEADER;
  const first = header.start ?? 0; // index of object i is first + i (range qualifiers)
  // A size prefix means data follows even in a READ (e.g. g70v5 file transport, qualifier 0x5B).
  if ((!withData && prefixCode < 4) || rangeCode === 6 || NO_DATA_GROUPS.has(group)) {
    // Only index prefixes follow a header without data (e.g. READ of points 0x17/0x28).
    if (prefixCode >= 1 && prefixCode <= 3 && rangeCode !== 6) {
      if ((b.length - off) / prefixBytes < count)
        return {
          ok: false,
          error: dnp3Error('truncated', `${where(group, variation, qualifier)}: ${count} indexes do not fit`),
        };
      for (let i = 0; i < count; i++, off += prefixBytes)
        if (i < max) header.points.push({ index: uint(b, off, prefixBytes) });
    } else {
      for (let i = 0; i < Math.min(count, max); i++) header.points.push({ index: first + i });
    }
    return { ok: true, header, next: off };
  }
  const spec = objectSpec(group, variation);
  const sized = prefixCode >= 4;
  if (!spec && !sized)
    return {
      ok: false,
      error: dnp3Error(
        'unknown_object_size',
        `${where(group, variation, qualifier)}: object size unknown, objects after it not read`,
      ),
    };
  if (spec?.bits && prefixCode === 0) {
    const bytes = Math.ceil((count * spec.size) / 8);
    if (b.length - off < bytes)
      return {
        ok: false,
        error: dnp3Error(
          'truncated',
          `${where(group, variation, qualifier)}: ${count} packed objects do not fit`,
        ),
      };
    for (let i = 0; i < Math.min(count, max); i++) {
      const bit = i * spec.size;
      const v = (b[off + (bit >> 3)]! >> (bit & 7)) & (spec.size === 2 ? 3 : 1);
      header.points.push({ index: first + i, value: v });
    }
    return { ok: true, header, next: off + bytes };
  }
  if (spec?.bits)
    return {
      ok: false,
      error: dnp3Error(
        'bad_qualifier',
        `${where(group, variation, qualifier)}: packed objects with a prefix`,
      ),
    };
  // A lower bound on what `count` objects need: reject impossible counts before any loop.
  const least = prefixBytes + (sized ? 0 : spec!.size);
  if (least > 0 && (b.length - off) / least < count)
    return {
      ok: false,
      error: dnp3Error('truncated', `${where(group, variation, qualifier)}: ${count} objects do not fit`),
    };
  if (least === 0 && count > 0)
    return {
      ok: false,
      error: dnp3Error('unknown_object_size', `${where(group, variation, qualifier)}: zero-size objects`),
    };
  for (let i = 0; i < count; i++) {
    let index = first + i;
    let size = spec?.size ?? 0;
    if (prefixBytes > 0) {
      if (b.length - off < prefixBytes)
        return { ok: false, error: dnp3Error('truncated', `${where(group, variation, qualifier)}: prefix`) };
      const prefix = uint(b, off, prefixBytes);
      off += prefixBytes;
      if (sized) size = prefix;
      else index = prefix;
    }
    if (b.length - off < size)
      return {
        ok: false,
        error: dnp3Error('truncated', `${where(group, variation, qualifier)}: object ${i} cut short`),
      };
    if (i < max) {
      const point: Dnp3Point = { index };
      if (spec?.read && size === spec.size) spec.read(b, off, point);
      header.points.push(point);
    }
    off += size;
  }
  return { ok: true, header, next: off };
}

/** Decodes one complete application fragment (§4.2). */
export function decodeApdu(b: Uint8Array): Dnp3ApduResult {
  if (b.length === 0) return { ok: false, error: dnp3Error('empty_fragment', 'empty application fragment') };
  if (b.length < 2) return { ok: false, error: dnp3Error('truncated', 'application header cut short') };
  const control = readAppControl(b[0]!);
  const fc = b[1]!;
  const response = fc >= 0x80;
  if (response && b.length < 4)
    return { ok: false, error: dnp3Error('truncated', 'response without IIN (§4.2.2.6)') };
  const apdu: ReturnType<typeof decodeApdu> & { ok: true } = {
    ok: true,
    apdu: {
      direction: response ? 'response' : 'request',
      control,
      function: fc,
      objects: [],
      length: b.length,
    },
  };
  let off = 2;
  if (response) {
    apdu.apdu.iin = (b[2]! << 8) | b[3]!;
    off = 4;
  }
  const withData = response || !HEADERS_ONLY.has(fc);
  while (off < b.length) {
    if (apdu.apdu.objects.length >= DNP3_LIMITS.MAX_OBJECT_HEADERS) {
      apdu.apdu.objectError = dnp3Error(
        'too_many_objects',
        `more than ${DNP3_LIMITS.MAX_OBJECT_HEADERS} object headers`,
      );
      break;
    }
    const r = readHeader(b, off, withData);
    if (!r.ok) {
      if (r.header) apdu.apdu.objects.push(r.header);
      apdu.apdu.objectError = r.error;
      break;
    }
    apdu.apdu.objects.push(r.header);
    off = r.next;
  }
  return apdu;
}
