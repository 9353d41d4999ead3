/**
 * The substitution values of EVTX Binary XML templates (value types 0x00-0x15 and their arrays),
 * rendered as text the way python-evtx and Windows render them: decimal integers, `0x`-padded hex
 * integers and pointers, `{guid}` in lower case, SIDs as `S-1-5-...`, FILETIME and SYSTEMTIME as
 * `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), binary as upper-case hex. Nested Binary XML (0x21) is the
 * reader's (evtx.ts). Pure.
 */

/** FILETIME (100 ns since 1601) → `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), as python-evtx renders it. */
export function filetimeText(lo: number, hi: number): string {
  const ticks = BigInt(hi) * 4294967296n + BigInt(lo);
  if (ticks === 0n) return '';
  const unixMicros = ticks / 10n - 11_644_473_600_000_000n;
  const ms = Number(unixMicros / 1000n);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  const micros = String(((unixMicros % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${micros}`;
}

const hex = (n: bigint, width: number) => `0x${n.toString(16).padStart(width, '0')}`;

/** A value of `type` held in `b` (its whole size) → text. */
export function valueText(b: Buffer, type: number): string {
  const size = b.length;
  const array = (type & 0x80) !== 0;
  const base = type & 0x7f;
  if (array) {
    if (base === 0x01)
      return b
        .toString('utf16le')
        .split('\0')
        .filter((s) => s !== '')
        .join(',');
    return b.toString('hex');
  }
  switch (base) {
    case 0x00:
      return '';
    case 0x01:
      return b.toString('utf16le').replace(/\0+$/, '');
    case 0x02:
      return b.toString('latin1').replace(/\0+$/, '');
    case 0x03:
      return size >= 1 ? String(b.readInt8(0)) : '';
    case 0x04:
      return size >= 1 ? String(b.readUInt8(0)) : '';
    case 0x05:
      return size >= 2 ? String(b.readInt16LE(0)) : '';
    case 0x06:
      return size >= 2 ? String(b.readUInt16LE(0)) : '';
    case 0x07:
      return size >= 4 ? String(b.readInt32LE(0)) : '';
    case 0x08:
      return size >= 4 ? String(b.readUInt32LE(0)) : '';
    case 0x09:
      return size >= 8 ? String(b.readBigInt64LE(0)) : '';
    case 0x0a:
      return size >= 8 ? String(b.readBigUInt64LE(0)) : '';
    case 0x0b:
      return size >= 4 ? String(b.readFloatLE(0)) : '';
    case 0x0c:
      return size >= 8 ? String(b.readDoubleLE(0)) : '';
    case 0x0d:
      return size >= 4 ? (b.readUInt32LE(0) !== 0 ? 'true' : 'false') : '';
    case 0x0e:
      return b.toString('hex').toUpperCase();
    case 0x0f: {
      if (size < 16) return '';
      const h = (s: number, e: number) => b.subarray(s, e).toString('hex');
      const d1 = b.readUInt32LE(0).toString(16).padStart(8, '0');
      const d2 = b.readUInt16LE(4).toString(16).padStart(4, '0');
      const d3 = b.readUInt16LE(6).toString(16).padStart(4, '0');
      return `{${d1}-${d2}-${d3}-${h(8, 10)}-${h(10, 16)}}`;
    }
    case 0x10:
      return size === 8 ? hex(b.readBigUInt64LE(0), 16) : size >= 4 ? hex(BigInt(b.readUInt32LE(0)), 8) : '';
    case 0x11:
      return size >= 8 ? filetimeText(b.readUInt32LE(0), b.readUInt32LE(4)) : '';
    case 0x12: {
      if (size < 16) return '';
      const [y, mo, , d, h, mi, s, ms] = [0, 2, 4, 6, 8, 10, 12, 14].map((o) => b.readUInt16LE(o));
      const p = (n: number, w = 2) => String(n).padStart(w, '0');
      return `${p(y!, 4)}-${p(mo!)}-${p(d!)} ${p(h!)}:${p(mi!)}:${p(s!)}.${p(ms! * 1000, 6)}`;
    }
    case 0x13: {
      if (size < 8) return '';
      const count = b[1]!;
      if (8 + count * 4 > size) return '';
      const authority = b.readUIntBE(2, 6);
      let sid = `S-${b[0]}-${authority}`;
      for (let i = 0; i < count; i++) sid += `-${b.readUInt32LE(8 + i * 4)}`;
      return sid;
    }
    case 0x14:
      return size >= 4 ? hex(BigInt(b.readUInt32LE(0)), 8) : '';
    case 0x15:
      return size >= 8 ? hex(b.readBigUInt64LE(0), 16) : '';
    default:
      return b.toString('hex');
  }
}
