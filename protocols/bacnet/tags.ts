/**
 * The BACnet tag encoding (ANSI/ASHRAE 135-2020 clause 20.2): a reader that walks application and
 * context tags, opening and closing tags, and decodes the primitive application types. Every
 * length is checked against the bytes that remain before anything is read or sliced, so a length
 * field cannot make the reader allocate or loop beyond the input: one step consumes at least one
 * byte.
 */
import type { BacnetValue, ObjectId } from './types.ts';

export interface Tag {
  number: number;
  context: boolean;
  /** Context tags only (clause 20.2.1.3.2): LVT 6 and 7. */
  opening: boolean;
  closing: boolean;
  /** Content length; for an application Boolean (clause 20.2.3) the value itself. */
  length: number;
  /** Offset of the content. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

/** Reads the tag at `at`, or null when it runs past `end` (a truncated or invalid tag). */
export function readTag(b: Uint8Array, at: number, end: number): Tag | null {
  if (at >= end) return null;
  const first = b[at]!;
  let p = at + 1;
  let number = first >> 4;
  const context = (first & 0x08) !== 0;
  const lvt = first & 0x07;
  // Clause 20.2.1.2: tag number 15 means the number follows in the next octet.
  if (number === 15) {
    if (p >= end) return null;
    number = b[p++]!;
  }
  if (context && (lvt === 6 || lvt === 7))
    return { number, context, opening: lvt === 6, closing: lvt === 7, length: 0, start: p, end: p };
  let length = lvt;
  // Application Boolean carries its value in LVT and has no content.
  if (!context && number === 1)
    return { number, context, opening: false, closing: false, length, start: p, end: p };
  if (lvt === 5) {
    // Clause 20.2.1.3.1 extended length: one octet, or 254 + two, or 255 + four.
    if (p >= end) return null;
    length = b[p++]!;
    if (length === 254) {
      if (p + 2 > end) return null;
      length = (b[p]! << 8) | b[p + 1]!;
      p += 2;
    } else if (length === 255) {
      if (p + 4 > end) return null;
      length = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      p += 4;
    }
  }
  if (p + length > end) return null;
  return { number, context, opening: false, closing: false, length, start: p, end: p + length };
}

export function readUnsigned(b: Uint8Array, tag: Tag): number {
  let v = 0;
  // Up to 6 octets stay exact in a double; longer ones are clamped to their low 6 octets.
  const from = Math.max(tag.start, tag.end - 6);
  for (let i = from; i < tag.end; i++) v = v * 256 + b[i]!;
  return v;
}

export function readSigned(b: Uint8Array, tag: Tag): number {
  if (tag.length === 0) return 0;
  const u = readUnsigned(b, tag);
  const bits = Math.min(tag.length, 6) * 8;
  return b[tag.start]! & 0x80 ? u - 2 ** bits : u;
}

export function readObjectId(b: Uint8Array, tag: Tag): ObjectId | null {
  if (tag.length !== 4) return null;
  const v =
    ((b[tag.start]! << 24) | (b[tag.start + 1]! << 16) | (b[tag.start + 2]! << 8) | b[tag.start + 3]!) >>> 0;
  return { type: v >>> 22, instance: v & 0x3fffff };
}

/** Longest character string kept in a value (an object name is at most a few dozen in practice). */
export const MAX_STRING_CHARS = 256;

function readString(b: Uint8Array, tag: Tag): string {
  if (tag.length === 0) return '';
  const charset = b[tag.start]!;
  const body = b.subarray(tag.start + 1, Math.min(tag.end, tag.start + 1 + MAX_STRING_CHARS * 2));
  // Clause 20.2.9: 0 is UTF-8 (ANSI X3.4 compatible), 4 UCS-2, 5 ISO 8859-1.
  if (charset === 4) return decodeUcs2(body).slice(0, MAX_STRING_CHARS);
  if (charset === 5) return Buffer.from(body).toString('latin1').slice(0, MAX_STRING_CHARS);
  return Buffer.from(body).toString('utf8').slice(0, MAX_STRING_CHARS);
}

function decodeUcs2(body: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < body.length; i += 2) s += String.fromCharCode((body[i]! << 8) | body[i + 1]!);
  return s;
}

const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 64)).toString('hex');

/** IEEE 754 big-endian (clause 20.2.6/20.2.7) through one shared view: no allocation per value. */
const SCRATCH = new DataView(new ArrayBuffer(8));
function readFloat(b: Uint8Array, at: number, size: 4 | 8): number {
  for (let i = 0; i < size; i++) SCRATCH.setUint8(i, b[at + i]!);
  return size === 4 ? SCRATCH.getFloat32(0) : SCRATCH.getFloat64(0);
}

/** Decodes an application-tagged primitive (clause 20.2.2–20.2.14). */
export function readApplicationValue(b: Uint8Array, tag: Tag): BacnetValue {
  switch (tag.number) {
    case 0:
      return null;
    case 1:
      return tag.length !== 0;
    case 2:
    case 9:
      return readUnsigned(b, tag);
    case 3:
      return readSigned(b, tag);
    case 4:
      return tag.length === 4 ? readFloat(b, tag.start, 4) : null;
    case 5:
      return tag.length === 8 ? readFloat(b, tag.start, 8) : null;
    case 7:
      return readString(b, tag);
    case 10:
    case 11:
      return tag.length === 4 ? formatDateTime(b, tag) : hex(b.subarray(tag.start, tag.end));
    case 12:
      return readObjectId(b, tag);
    default:
      // Octet and bit strings: hex, capped.
      return hex(b.subarray(tag.start, tag.end));
  }
}

function formatDateTime(b: Uint8Array, tag: Tag): string {
  const [x, y, z, w] = [b[tag.start]!, b[tag.start + 1]!, b[tag.start + 2]!, b[tag.start + 3]!];
  const two = (n: number) => (n === 255 ? '**' : String(n).padStart(2, '0'));
  // Clause 20.2.12/13: 255 is "unspecified"; date is year-1900, month, day, weekday.
  if (tag.number === 10) return `${x === 255 ? '****' : 1900 + x}-${two(y)}-${two(z)}`;
  return `${two(x)}:${two(y)}:${two(z)}.${two(w)}`;
}
