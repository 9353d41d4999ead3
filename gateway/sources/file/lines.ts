/**
 * The file source's line splitter: bytes of a file, in chunks of any size, to lines with the file
 * offsets they start and end at, in utf-8, utf-16le, utf-16be or latin1. A line ends at LF (a CR
 * before it is dropped); a BOM at offset 0 is skipped. A line longer than `maxLineBytes` is cut to
 * that many bytes on a character boundary and says how many bytes it lost: only its first bytes
 * are held, whatever its length. A line is handed on once its LF is read (`end` is the offset
 * after the LF), so an offset taken from `end` is always the start of the next line; the partial
 * last line stays held until `finish` (a file rotated away). Pure: no I/O, never throws.
 */
import type { FileEncoding } from './config.ts';

export interface SplitLine {
  text: string;
  /** File offset of the line's first byte. */
  start: number;
  /** File offset after its LF (or after its last byte, for a partial line at `finish`). */
  end: number;
  /** Bytes cut from a line over the cap (0 when whole). */
  truncatedBytes: number;
}

export interface LineSplitterOptions {
  encoding: FileEncoding;
  maxLineBytes: number;
  /** File offset of the first byte pushed (a resumed read starts mid-file, on a line start). */
  startOffset?: number;
}

const BOMS: Record<FileEncoding, number[]> = {
  'utf-8': [0xef, 0xbb, 0xbf],
  'utf-16le': [0xff, 0xfe],
  'utf-16be': [0xfe, 0xff],
  latin1: [],
};

const utf16be = new TextDecoder('utf-16be');

export function decodeText(bytes: Buffer, encoding: FileEncoding): string {
  switch (encoding) {
    case 'utf-8':
      return bytes.toString('utf8');
    case 'latin1':
      return bytes.toString('latin1');
    case 'utf-16le':
      return bytes.toString('utf16le');
    case 'utf-16be':
      return utf16be.decode(bytes);
  }
}

/** The longest prefix of `bytes` up to `max` that does not split a character. */
function cutAt(bytes: Buffer, max: number, encoding: FileEncoding): number {
  if (encoding === 'latin1') return max;
  if (encoding === 'utf-8') {
    let end = max;
    // Back up over continuation bytes (10xxxxxx) and the lead byte they belong to.
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
    return end;
  }
  let end = max - (max % 2);
  // Do not end on a high surrogate (its low half was cut).
  const hi = encoding === 'utf-16le' ? bytes[end - 1] : bytes[end - 2];
  if (end >= 2 && hi !== undefined && hi >= 0xd8 && hi <= 0xdb) end -= 2;
  return end;
}

export function createLineSplitter(options: LineSplitterOptions) {
  const { encoding, maxLineBytes } = options;
  const wide = encoding === 'utf-16le' || encoding === 'utf-16be';
  const unit = wide ? 2 : 1;
  /** File offset of the next byte to be pushed. */
  let pos = options.startOffset ?? 0;
  /** Start offset of the line being gathered. */
  let lineStart = pos;
  /** Its first bytes (at most maxLineBytes + one unit, to know it was over). */
  let held: Buffer[] = [];
  let heldBytes = 0;
  /** Its length so far, kept beyond what is held. */
  let lineBytes = 0;
  /** A lone byte of a UTF-16 unit split across chunks. */
  let odd: Buffer | undefined;
  /** The line's last 4 bytes (with its LF): whether a CR precedes the LF, whatever was held. */
  let tail = Buffer.alloc(0);
  const bom = BOMS[encoding];
  const keep = maxLineBytes + unit;

  const hold = (part: Buffer) => {
    lineBytes += part.length;
    if (part.length >= 4) tail = Buffer.from(part.subarray(part.length - 4));
    else if (part.length > 0) tail = Buffer.concat([tail, part]).subarray(-4);
    if (heldBytes >= keep || part.length === 0) return;
    const take = part.length <= keep - heldBytes ? part : part.subarray(0, keep - heldBytes);
    // Copied: the chunk's buffer is reused by the reader.
    held.push(Buffer.from(take));
    heldBytes += take.length;
  };

  const make = (end: number, newlineBytes: number): SplitLine => {
    let bytes = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
    let length = lineBytes - newlineBytes;
    // A CR before the LF is not part of the line.
    if (newlineBytes > 0 && length >= unit && isCr(tail, tail.length - newlineBytes - unit)) length -= unit;
    if (bytes.length > length) bytes = bytes.subarray(0, length);
    let start = 0;
    if (lineStart === 0 && bom.length > 0 && bom.every((b, i) => bytes[i] === b)) start = bom.length;
    let truncatedBytes = 0;
    let content = bytes.subarray(start);
    if (length - start > maxLineBytes) {
      const cut = cutAt(content, maxLineBytes, encoding);
      truncatedBytes = length - start - cut;
      content = content.subarray(0, cut);
    }
    const line = { text: decodeText(content, encoding), start: lineStart, end, truncatedBytes };
    lineStart = end;
    held = [];
    heldBytes = 0;
    lineBytes = 0;
    tail = Buffer.alloc(0);
    return line;
  };

  const isCr = (b: Buffer, at: number) =>
    encoding === 'utf-16le'
      ? b[at] === 0x0d && b[at + 1] === 0
      : encoding === 'utf-16be'
        ? b[at] === 0 && b[at + 1] === 0x0d
        : b[at] === 0x0d;

  /** Index of the next LF unit in `buf` at or after `from` (aligned to units), or -1. */
  const nextNewline = (buf: Buffer, from: number): number => {
    if (!wide) return buf.indexOf(0x0a, from);
    for (let i = from; i + 1 < buf.length; i += 2) {
      if (encoding === 'utf-16le' ? buf[i] === 0x0a && buf[i + 1] === 0 : buf[i] === 0 && buf[i + 1] === 0x0a)
        return i;
    }
    return -1;
  };

  return {
    /** The lines completed by `chunk` (the bytes after the previous chunk). */
    push(chunk: Buffer): SplitLine[] {
      let buf = chunk;
      if (odd) {
        buf = Buffer.concat([odd, chunk]);
        odd = undefined;
      }
      let usable = buf.length;
      if (wide && usable % 2 === 1) {
        odd = Buffer.from(buf.subarray(usable - 1));
        usable -= 1;
      }
      const out: SplitLine[] = [];
      let from = 0;
      const data = usable === buf.length ? buf : buf.subarray(0, usable);
      for (;;) {
        const nl = nextNewline(data, from);
        if (nl < 0) break;
        hold(data.subarray(from, nl + unit));
        out.push(make(pos + nl + unit, unit));
        from = nl + unit;
      }
      hold(data.subarray(from));
      pos += usable;
      return out;
    },
    /** The partial last line, if any (the file was rotated away and will not grow). */
    finish(): SplitLine | undefined {
      if (lineBytes === 0) return undefined;
      return make(pos, 0);
    },
    /** Offset of the first byte not yet in a returned line. */
    get lineStart(): number {
      return lineStart;
    },
    /** Bytes read but not yet in a returned line. */
    get heldBytes(): number {
      return lineBytes + (odd ? 1 : 0);
    },
  };
}

export type LineSplitter = ReturnType<typeof createLineSplitter>;
