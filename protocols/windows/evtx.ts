/**
 * A bounded reader of Windows `.evtx` files (the EVTX format: a 4 KiB file header `ElfFile\0`,
 * then 64 KiB chunks `ElfChnk\0`, each with a string and template table and records `**\0\0`
 * holding Binary XML). Binary XML is read token by token (fragment header 0x0f, template instance
 * 0x0c, elements 0x01/0x41 with attributes 0x06/0x46, values 0x05, substitutions 0x0d/0x0e, end
 * tokens 0x02/0x03/0x04/0x00); template instances are filled with their substitution values
 * (strings, integers, GUIDs, SIDs, FILETIMEs, hex integers, nested Binary XML), giving the same
 * element tree as the event's XML (xml.ts reads it from there). Every offset is checked against its
 * chunk; nesting, elements per record and file size are bounded, and a broken record is reported
 * with its reason while the others still read. Pure; never throws.
 */
import { recordFromEventElement, type XmlElement } from './xml.ts';
import type { WindowsRecord } from './types.ts';
import { filetimeText, valueText } from './evtx-values.ts';

const FILE_MAGIC = 'ElfFile\0';
const CHUNK_MAGIC = 'ElfChnk\0';
const CHUNK_SIZE = 65_536;
const HEADER_BLOCK = 4096;
const RECORD_MAGIC = 0x00002a2a;
/** Nested templates and embedded Binary XML per record. */
const MAX_DEPTH = 24;
/** Elements and values per record. */
const MAX_NODES = 20_000;

export interface EvtxRecord {
  /** The record header's number (an exported file numbers 1..N). */
  number: number;
  /** The record header's write time, ISO 8601 UTC. */
  written?: string;
  /** The event: its XML tree read as a Windows record (EventRecordID is the event's own). */
  record?: WindowsRecord;
  element?: XmlElement;
  /** Why this record could not be read. */
  error?: string;
  /** Byte offset of the record in the file. */
  offset: number;
}

export interface EvtxFile {
  ok: boolean;
  /** Why the file as a whole was refused (not EVTX, too large). */
  error?: string;
  chunks: number;
  records: EvtxRecord[];
}

export interface EvtxOptions {
  /** Largest file accepted (default 1 GiB). */
  maxBytes?: number;
}

class Bad extends Error {}

class ChunkReader {
  private nodes = 0;
  constructor(
    private readonly buf: Buffer,
    /** File offset of the chunk. */
    private readonly base: number,
  ) {}

  private need(off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > CHUNK_SIZE || this.base + off + len > this.buf.length)
      throw new Bad(`offset ${off}+${len} outside the chunk`);
  }
  u8(off: number): number {
    this.need(off, 1);
    return this.buf[this.base + off]!;
  }
  u16(off: number): number {
    this.need(off, 2);
    return this.buf.readUInt16LE(this.base + off);
  }
  u32(off: number): number {
    this.need(off, 4);
    return this.buf.readUInt32LE(this.base + off);
  }
  u64(off: number): bigint {
    this.need(off, 8);
    return this.buf.readBigUInt64LE(this.base + off);
  }
  utf16(off: number, chars: number): string {
    this.need(off, chars * 2);
    return this.buf.toString('utf16le', this.base + off, this.base + off + chars * 2);
  }
  bytes(off: number, len: number): Buffer {
    this.need(off, len);
    return this.buf.subarray(this.base + off, this.base + off + len);
  }

  resetNodes(): void {
    this.nodes = 0;
  }
  private count(): void {
    if (++this.nodes > MAX_NODES) throw new Bad('too many elements in one record');
  }

  /** A name structure: next offset u32, hash u16, length u16, UTF-16 characters, NUL. */
  name(off: number): { text: string; size: number } {
    const len = this.u16(off + 6);
    return { text: this.utf16(off + 8, len), size: 8 + len * 2 + 2 };
  }

  /** A substitution value of `type` at `off`, `size` bytes: text, or nodes for Binary XML. */
  value(type: number, off: number, size: number, depth: number): string | Array<XmlElement | string> {
    this.need(off, size);
    if (type === 0x21) return this.fragment(off, off + size, [], depth + 1).nodes;
    return valueText(this.bytes(off, size), type);
  }

  /**
   * Reads Binary XML from `off` up to `end` (or its EOF token) with the template values `subs`:
   * the nodes read and where reading stopped.
   */
  fragment(
    off: number,
    end: number,
    subs: ReadonlyArray<string | Array<XmlElement | string>>,
    depth: number,
  ): { nodes: Array<XmlElement | string>; end: number } {
    if (depth > MAX_DEPTH) throw new Bad('Binary XML nested too deeply');
    const nodes: Array<XmlElement | string> = [];
    let p = off;
    while (p < end) {
      const token = this.u8(p);
      const t = token & 0x0f;
      if (t === 0x00) return { nodes, end: p + 1 };
      if (t === 0x0f) {
        p += 4;
        continue;
      }
      if (t === 0x0c) {
        const r = this.templateInstance(p, depth);
        nodes.push(...r.nodes);
        p = r.end;
        continue;
      }
      if (t === 0x01) {
        const r = this.element(p, subs, depth);
        nodes.push(r.element);
        p = r.end;
        continue;
      }
      if (t === 0x04) return { nodes, end: p }; // the caller's end of element
      const v = this.content(p, subs, depth);
      if (!v) throw new Bad(`unexpected Binary XML token 0x${token.toString(16)} at ${p}`);
      if (typeof v.value === 'string') nodes.push(v.value);
      else nodes.push(...v.value);
      p = v.end;
    }
    return { nodes, end: p };
  }

  /** Value-like tokens (text, substitutions, references): undefined when `p` holds none. */
  private content(
    p: number,
    subs: ReadonlyArray<string | Array<XmlElement | string>>,
    depth: number,
  ): { value: string | Array<XmlElement | string>; end: number } | undefined {
    const t = this.u8(p) & 0x0f;
    if (t === 0x05) {
      const type = this.u8(p + 1);
      if (type !== 0x01) throw new Bad(`value text of type 0x${type.toString(16)}`);
      const len = this.u16(p + 2);
      return { value: this.utf16(p + 4, len), end: p + 4 + len * 2 };
    }
    if (t === 0x0d || t === 0x0e) {
      const id = this.u16(p + 1);
      this.count();
      return { value: subs[id] ?? '', end: p + 4 };
    }
    if (t === 0x07) {
      const len = this.u16(p + 1);
      return { value: this.utf16(p + 3, len), end: p + 3 + len * 2 };
    }
    if (t === 0x08) return { value: String.fromCharCode(this.u16(p + 1)), end: p + 3 };
    if (t === 0x09) {
      const nameOff = this.u32(p + 1);
      const inline = nameOff === p + 5;
      const n = this.name(nameOff);
      const ent: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      return { value: ent[n.text] ?? `&${n.text};`, end: p + 5 + (inline ? n.size : 0) };
    }
    void depth;
    return undefined;
  }

  private element(
    p: number,
    subs: ReadonlyArray<string | Array<XmlElement | string>>,
    depth: number,
  ): { element: XmlElement; end: number } {
    this.count();
    const token = this.u8(p);
    // token, dependency id (u16), data size (u32), name offset (u32)
    const nameOff = this.u32(p + 7);
    let q = p + 11;
    const name = this.name(nameOff);
    if (nameOff === q) q += name.size;
    if (token & 0x40) q += 4; // attribute list size
    const el: XmlElement = {
      name: name.text.includes(':') ? name.text.split(':').pop()! : name.text,
      attrs: {},
      children: [],
    };
    while ((this.u8(q) & 0x0f) === 0x06) {
      const attrNameOff = this.u32(q + 1);
      q += 5;
      const attrName = this.name(attrNameOff);
      if (attrNameOff === q) q += attrName.size;
      let value = '';
      for (;;) {
        const v = this.content(q, subs, depth);
        if (!v) break;
        value +=
          typeof v.value === 'string'
            ? v.value
            : v.value.map((n) => (typeof n === 'string' ? n : '')).join('');
        q = v.end;
      }
      if (!attrName.text.startsWith('xmlns')) el.attrs[attrName.text] = value;
    }
    const close = this.u8(q) & 0x0f;
    if (close === 0x03) return { element: el, end: q + 1 };
    if (close !== 0x02) throw new Bad(`element <${el.name}> not closed at ${q}`);
    const body = this.fragment(q + 1, CHUNK_SIZE, subs, depth + 1);
    if ((this.u8(body.end) & 0x0f) !== 0x04) throw new Bad(`element <${el.name}> has no end token`);
    el.children = body.nodes;
    return { element: el, end: body.end + 1 };
  }

  private templateInstance(p: number, depth: number): { nodes: Array<XmlElement | string>; end: number } {
    // token, unknown u8, template id u32, definition offset u32
    const defOff = this.u32(p + 6);
    let q = p + 10;
    const dataSize = this.u32(defOff + 20);
    const bodyOff = defOff + 24;
    if (defOff === q) q += 24 + dataSize; // the definition follows inline
    const count = this.u32(q);
    if (count > 4096) throw new Bad(`template with ${count} values`);
    q += 4;
    const descs: Array<{ size: number; type: number }> = [];
    for (let i = 0; i < count; i++) descs.push({ size: this.u16(q + i * 4), type: this.u8(q + i * 4 + 2) });
    q += count * 4;
    const values: Array<string | Array<XmlElement | string>> = [];
    for (const d of descs) {
      values.push(d.size === 0 ? '' : this.value(d.type, q, d.size, depth));
      q += d.size;
    }
    const body = this.fragment(bodyOff, bodyOff + dataSize, values, depth + 1);
    return { nodes: body.nodes, end: q };
  }
}

/** Reads every record of an `.evtx` file held in `bytes`. */
export function readEvtx(bytes: Uint8Array, options: EvtxOptions = {}): EvtxFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
  const out: EvtxFile = { ok: false, chunks: 0, records: [] };
  if (buf.length > maxBytes) return { ...out, error: `file larger than ${maxBytes} bytes` };
  if (buf.length < HEADER_BLOCK || buf.toString('latin1', 0, 8) !== FILE_MAGIC)
    return { ...out, error: 'not an EVTX file (no ElfFile header)' };
  out.ok = true;
  for (let base = HEADER_BLOCK; base + 512 <= buf.length; base += CHUNK_SIZE) {
    if (buf.toString('latin1', base, base + 8) !== CHUNK_MAGIC) continue; // unused or torn chunk
    out.chunks++;
    const chunk = new ChunkReader(buf, base);
    const free = Math.min(buf.readUInt32LE(base + 48), CHUNK_SIZE, buf.length - base);
    let off = 512;
    while (off + 28 <= free) {
      if (buf.readUInt32LE(base + off) !== RECORD_MAGIC) break;
      const size = buf.readUInt32LE(base + off + 4);
      if (size < 28 || off + size > free) break;
      const rec: EvtxRecord = { number: Number(buf.readBigUInt64LE(base + off + 8)), offset: base + off };
      const written = filetimeText(buf.readUInt32LE(base + off + 16), buf.readUInt32LE(base + off + 20));
      if (written) rec.written = `${written.replace(' ', 'T').slice(0, 23)}Z`;
      try {
        chunk.resetNodes();
        const r = chunk.fragment(off + 24, off + size - 4, [], 0);
        const root = r.nodes.find((n): n is XmlElement => typeof n !== 'string');
        if (!root) rec.error = 'record holds no element';
        else {
          rec.element = root;
          const parsed = recordFromEventElement(root, 'evtx');
          if (parsed.ok) rec.record = parsed.record;
          else rec.error = parsed.error;
        }
      } catch (error) {
        rec.error = error instanceof Bad ? error.message : `unreadable record: ${String(error)}`;
      }
      out.records.push(rec);
      off += size;
    }
  }
  return out;
}
