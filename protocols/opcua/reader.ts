/**
 * A bounds-checked little-endian reader for the OPC UA binary encoding of the built-in types
 * (OPC 10000-6 §5.2): integers, String, ByteString, DateTime, Guid, NodeId, ExpandedNodeId,
 * QualifiedName, LocalizedText, ExtensionObject, Variant, DataValue, DiagnosticInfo. Every length
 * is checked against the bytes that remain before anything is read or allocated, so no
 * attacker-controlled length can allocate beyond the message it came in, and every array element
 * consumes at least one byte, so work is bounded by the message size. A read past the end throws
 * `ReadError`, which the codec's entry points catch and turn into a typed error: nothing throws
 * across the codec's boundary.
 */
import { OPCUA_LIMITS, type OpcuaErrorCode } from './types.ts';

export class ReadError extends Error {
  constructor(
    readonly code: OpcuaErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** 100 ns ticks from 1601-01-01 to 1970-01-01 (OPC 10000-6 §5.2.2.5), in milliseconds. */
const EPOCH_DIFF_MS = 11_644_473_600_000;
const MAX_DATE_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class Reader {
  off: number;
  constructor(
    readonly b: Uint8Array,
    start = 0,
    readonly end = b.length,
  ) {
    this.off = start;
  }

  remaining(): number {
    return this.end - this.off;
  }

  need(n: number): void {
    if (n > this.end - this.off)
      throw new ReadError('truncated', `needs ${n} bytes at offset ${this.off}, ${this.end - this.off} left`);
  }

  u8(): number {
    this.need(1);
    return this.b[this.off++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.b[this.off]! | (this.b[this.off + 1]! << 8);
    this.off += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const b = this.b;
    const o = this.off;
    this.off += 4;
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  }
  i32(): number {
    return this.u32() | 0;
  }
  /** Int64/UInt64 as a number (exact below 2^53) or a decimal string. */
  i64(signed: boolean): number | string {
    const lo = this.u32();
    const hi = this.u32();
    const big = (BigInt(signed ? hi | 0 : hi) << 32n) | BigInt(lo);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big.toString();
  }
  f32(): number {
    this.need(4);
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.off, 4).getFloat32(0, true);
    this.off += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.off, 8).getFloat64(0, true);
    this.off += 8;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.off += n;
  }

  /** An Int32 length: -1 is null; anything else negative, or beyond what is left, is refused. */
  length(minElementBytes = 1): number {
    const n = this.i32();
    if (n === -1) return -1;
    if (n < 0 || n * minElementBytes > this.end - this.off)
      throw new ReadError('invalid_length', `length ${n} at offset ${this.off - 4} exceeds the message`);
    return n;
  }

  /** String (§5.2.2.4): null is `null`; `max` caps what the spec caps (URLs, reasons). */
  string(max: number = OPCUA_LIMITS.MAX_CHUNK_BYTES): string | null {
    const n = this.length();
    if (n === -1) return null;
    if (n > max) throw new ReadError('invalid_length', `string of ${n} bytes over its ${max}-byte cap`);
    const s = utf8.decode(this.b.subarray(this.off, this.off + n));
    this.off += n;
    return s;
  }

  /** ByteString: its length only (its bytes are skipped; callers that need them use `bytes`). */
  byteStringLength(): number {
    const n = this.length();
    if (n > 0) this.off += n;
    return n;
  }
  bytes(): Uint8Array | null {
    const n = this.length();
    if (n === -1) return null;
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  boolean(): boolean {
    return this.u8() !== 0;
  }

  /** DateTime (§5.2.2.5): ISO time, or null for 0 and out-of-range values. */
  dateTime(): string | null {
    const lo = this.u32();
    const hi = this.u32() | 0;
    if (hi === 0 && lo === 0) return null;
    const ms = Math.floor((hi * 4_294_967_296 + lo) / 10_000) - EPOCH_DIFF_MS;
    if (!Number.isFinite(ms) || ms < -EPOCH_DIFF_MS || ms > MAX_DATE_MS) return null;
    return new Date(ms).toISOString();
  }

  guid(): string {
    this.need(16);
    const d1 = this.u32().toString(16).padStart(8, '0');
    const d2 = this.u16().toString(16).padStart(4, '0');
    const d3 = this.u16().toString(16).padStart(4, '0');
    const rest = Buffer.from(this.b.subarray(this.off, this.off + 8)).toString('hex');
    this.off += 8;
    return `${d1}-${d2}-${d3}-${rest.slice(0, 4)}-${rest.slice(4)}`;
  }

  /** NodeId (§5.2.2.9) in the text form of OPC 10000-6 §5.3.1.10: `i=85`, `ns=1;s=the.answer`. */
  nodeId(): string {
    return this.nodeIdWithFlags(this.u8());
  }

  private nodeIdWithFlags(enc: number): string {
    let ns = 0;
    let id: string;
    switch (enc & 0x3f) {
      case 0:
        id = `i=${this.u8()}`;
        break;
      case 1:
        ns = this.u8();
        id = `i=${this.u16()}`;
        break;
      case 2:
        ns = this.u16();
        id = `i=${this.u32()}`;
        break;
      case 3:
        ns = this.u16();
        id = `s=${truncate(this.string() ?? '')}`;
        break;
      case 4:
        ns = this.u16();
        id = `g=${this.guid()}`;
        break;
      case 5: {
        ns = this.u16();
        const b = this.bytes();
        id = `b=${b ? Buffer.from(b.subarray(0, 64)).toString('base64') : ''}`;
        break;
      }
      default:
        throw new ReadError('invalid_encoding', `NodeId encoding 0x${enc.toString(16)}`);
    }
    return ns === 0 ? id : `ns=${ns};${id}`;
  }

  /** ExpandedNodeId (§5.2.2.10): namespace URI and server index flags on the NodeId encoding. */
  expandedNodeId(): string {
    const enc = this.u8();
    let id = this.nodeIdWithFlags(enc);
    if (enc & 0x80) id = `nsu=${truncate(this.string() ?? '')};${id}`;
    if (enc & 0x40) id = `svr=${this.u32()};${id}`;
    return id;
  }

  /** The numeric id of a ns-0 NodeId, or -1 for any other (an encoding id that is not ours). */
  numericTypeId(): number {
    const enc = this.u8();
    switch (enc & 0x3f) {
      case 0:
        return this.u8();
      case 1:
        return this.u8() === 0 ? this.u16() : (this.u16(), -1);
      case 2:
        return this.u16() === 0 ? this.u32() : (this.u32(), -1);
      default:
        this.off--;
        this.nodeIdWithFlags(this.u8());
        return -1;
    }
  }

  qualifiedName(): string {
    const ns = this.u16();
    const name = this.string() ?? '';
    return ns === 0 ? name : `${ns}:${name}`;
  }

  localizedText(): string | null {
    const mask = this.u8();
    if (mask & 0x01) this.string();
    return mask & 0x02 ? this.string() : null;
  }

  /** ExtensionObject (§5.2.2.15): its type id and the body's bounds (a sub-reader over them). */
  extensionObject(): { typeId: number; typeNode?: string; body: Reader | null } {
    const start = this.off;
    const typeId = this.numericTypeId();
    let typeNode: string | undefined;
    if (typeId === -1) {
      const save = this.off;
      this.off = start;
      typeNode = this.nodeId();
      this.off = save;
    }
    const enc = this.u8();
    if (enc === 0) return { typeId, typeNode, body: null };
    if (enc !== 1 && enc !== 2) throw new ReadError('invalid_encoding', `ExtensionObject encoding ${enc}`);
    const n = this.length();
    if (n === -1) return { typeId, typeNode, body: null };
    const body = new Reader(this.b, this.off, this.off + n);
    this.off += n;
    return { typeId, typeNode, body };
  }

  /** DiagnosticInfo (§5.2.2.12), skipped; nested ones bounded by MAX_DEPTH. */
  diagnosticInfo(depth = 0): void {
    if (depth > OPCUA_LIMITS.MAX_DEPTH) throw new ReadError('too_deep', 'DiagnosticInfo nested too deep');
    const mask = this.u8();
    if (mask & 0x01) this.skip(4);
    if (mask & 0x02) this.skip(4);
    if (mask & 0x08) this.skip(4);
    if (mask & 0x04) this.skip(4);
    if (mask & 0x10) this.string();
    if (mask & 0x20) this.skip(4);
    if (mask & 0x40) this.diagnosticInfo(depth + 1);
  }

  /** Variant (§5.2.2.16) as a JSON value: scalars as themselves, arrays as arrays (capped). */
  variant(depth = 0): unknown {
    if (depth > OPCUA_LIMITS.MAX_DEPTH) throw new ReadError('too_deep', 'Variant nested too deep');
    const mask = this.u8();
    const type = mask & 0x3f;
    let value: unknown;
    if (mask & 0x80) {
      const n = this.length();
      const kept: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = this.scalar(type, depth);
        if (i < OPCUA_LIMITS.MAX_KEPT_VALUES) kept.push(v);
      }
      value = n === -1 ? null : kept;
      if (mask & 0x40) {
        const dims = this.length(4);
        this.skip(Math.max(0, dims) * 4);
      }
    } else value = this.scalar(type, depth);
    return value;
  }

  /** The value of one built-in type (OPC 10000-6 §5.1.2 Table 1). */
  scalar(type: number, depth: number): unknown {
    switch (type) {
      case 0:
        return null;
      case 1:
        return this.boolean();
      case 2:
        return (this.u8() << 24) >> 24;
      case 3:
        return this.u8();
      case 4:
        return (this.u16() << 16) >> 16;
      case 5:
        return this.u16();
      case 6:
        return this.i32();
      case 7:
        return this.u32();
      case 8:
        return this.i64(true);
      case 9:
        return this.i64(false);
      case 10:
        return jsonNumber(this.f32());
      case 11:
        return jsonNumber(this.f64());
      case 12:
      case 16:
        return truncateOrNull(this.string());
      case 13:
        return this.dateTime();
      case 14:
        return this.guid();
      case 15: {
        const b = this.bytes();
        return b ? Buffer.from(b.subarray(0, 64)).toString('hex') : null;
      }
      case 17:
        return this.nodeId();
      case 18:
        return this.expandedNodeId();
      case 19:
        return this.u32();
      case 20:
        return this.qualifiedName();
      case 21:
        return truncateOrNull(this.localizedText());
      case 22: {
        const x = this.extensionObject();
        return { type_id: x.typeNode ?? `i=${x.typeId}`, bytes: x.body ? x.body.end - x.body.off : 0 };
      }
      case 23:
        return this.dataValue(depth + 1).value ?? null;
      case 24:
        return this.variant(depth + 1);
      case 25:
        this.diagnosticInfo(depth + 1);
        return null;
      default:
        throw new ReadError('invalid_encoding', `Variant type ${type}`);
    }
  }

  /** DataValue (§5.2.2.17). */
  dataValue(depth = 0): { value?: unknown; status?: number } {
    if (depth > OPCUA_LIMITS.MAX_DEPTH) throw new ReadError('too_deep', 'DataValue nested too deep');
    const mask = this.u8();
    const out: { value?: unknown; status?: number } = {};
    if (mask & 0x01) out.value = this.variant(depth + 1);
    if (mask & 0x02) out.status = this.u32();
    if (mask & 0x04) this.skip(8);
    if (mask & 0x10) this.skip(2);
    if (mask & 0x08) this.skip(8);
    if (mask & 0x20) this.skip(2);
    return out;
  }

  /** An array of `item`, null as []; each element takes at least one byte, so `n` is bounded. */
  array<T>(item: (r: Reader) => T): T[] {
    const n = this.length();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }
}

function jsonNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

export function truncate(s: string): string {
  return s.length > OPCUA_LIMITS.MAX_KEPT_STRING ? s.slice(0, OPCUA_LIMITS.MAX_KEPT_STRING) : s;
}

function truncateOrNull(s: string | null): string | null {
  return s === null ? null : truncate(s);
}
