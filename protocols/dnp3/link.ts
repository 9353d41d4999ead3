/**
 * DNP3 data link layer (IEEE 1815-2012 §9): the CRC-16/DNP, one FT3 frame (start octets 0x05 0x64,
 * a 10-octet header with its own CRC, then user data in 16-octet blocks each followed by a CRC), and
 * a deframer that cuts a byte stream (TCP, a serial line) or a UDP datagram into frames. A frame is
 * at most 292 octets, so the deframer never holds more than one partial frame; bytes that are not a
 * frame are skipped up to the next 0x05 0x64 and reported once per run, so one bad byte cannot hide
 * the good frames after it. Pure; never throws.
 */
import { dnp3Error, type Dnp3Error, type LinkFrame, type LinkHeader } from './types.ts';

/** Header octets (start, length, control, destination, source, CRC). */
export const LINK_HEADER_BYTES = 10;
/** Largest frame: LENGTH 255 → 250 user octets in 16 blocks, each with a 2-octet CRC. */
export const MAX_LINK_FRAME_BYTES = 292;

const CRC_TABLE = (() => {
  // CRC-16/DNP: polynomial x^16+x^13+x^12+x^11+x^10+x^8+x^6+x^5+x^2+1 (0x3D65), reflected (§9.2.5).
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa6bc : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/DNP of `b[from, to)`, complemented as sent on the wire (low octet first). */
export function crcDnp(b: Uint8Array, from = 0, to = b.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ b[i]!) & 0xff]!;
  return ~crc & 0xffff;
}

/** Octets on the wire of a frame whose LENGTH octet is `length`. */
export function linkFrameBytes(length: number): number {
  const user = length - 5;
  return LINK_HEADER_BYTES + user + 2 * Math.ceil(user / 16);
}

export function readLinkHeader(b: Uint8Array, at: number): LinkHeader {
  const ctrl = b[at + 3]!;
  return {
    length: b[at + 2]!,
    dir: (ctrl & 0x80) !== 0,
    prm: (ctrl & 0x40) !== 0,
    fcb: (ctrl & 0x20) !== 0,
    fcv: (ctrl & 0x10) !== 0,
    function: ctrl & 0x0f,
    destination: b[at + 4]! | (b[at + 5]! << 8),
    source: b[at + 6]! | (b[at + 7]! << 8),
  };
}

const crcAt = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);

/** The frame's user data without its CRCs, or the first block whose CRC fails. */
function userData(b: Uint8Array, at: number, length: number): Uint8Array | number {
  const out = new Uint8Array(length - 5);
  let src = at + LINK_HEADER_BYTES;
  let dst = 0;
  for (let block = 0; dst < out.length; block++) {
    const n = Math.min(16, out.length - dst);
    if (crcDnp(b, src, src + n) !== crcAt(b, src + n)) return block;
    out.set(b.subarray(src, src + n), dst);
    src += n + 2;
    dst += n;
  }
  return out;
}

export type LinkScanItem =
  | { type: 'frame'; frame: LinkFrame }
  /** `skipped`: octets dropped to get past the problem. */
  | { type: 'error'; error: Dnp3Error; skipped: number };

/**
 * Cuts frames from `b` starting at 0. Returns the items and how many octets were consumed; when
 * `final` is false, a partial frame at the end is left for the next call.
 */
export function scanLinkFrames(b: Uint8Array, final: boolean): { items: LinkScanItem[]; used: number } {
  const items: LinkScanItem[] = [];
  let pos = 0;
  let junk = 0;
  let badHeaders = 0;
  // One error per run of skipped octets, however many false starts it held: garbage must not
  // turn into a flood of events.
  const flushJunk = () => {
    if (junk > 0)
      items.push({
        type: 'error',
        error:
          badHeaders > 0
            ? dnp3Error(
                'header_crc',
                `${junk} octets skipped, ${badHeaders} link headers with a bad CRC (§9.2.5)`,
              )
            : dnp3Error('bad_start', `${junk} octets without the 0x05 0x64 start (IEEE 1815 §9.2.4.1.1)`),
        skipped: junk,
      });
    junk = 0;
    badHeaders = 0;
  };
  while (pos < b.length) {
    if (b[pos] !== 0x05 || (pos + 1 < b.length && b[pos + 1] !== 0x64)) {
      pos++;
      junk++;
      continue;
    }
    if (b.length - pos < LINK_HEADER_BYTES) break;
    const length = b[pos + 2]!;
    if (crcDnp(b, pos, pos + 8) !== crcAt(b, pos + 8)) {
      // A false start (or a damaged header): part of the run of skipped octets.
      badHeaders++;
      junk++;
      pos++;
      continue;
    }
    if (length < 5) {
      flushJunk();
      items.push({
        type: 'error',
        error: dnp3Error('bad_length', `link LENGTH ${length} is below the minimum of 5 (§9.2.4.1.2)`),
        skipped: LINK_HEADER_BYTES,
      });
      pos += LINK_HEADER_BYTES;
      continue;
    }
    const size = linkFrameBytes(length);
    if (b.length - pos < size) break;
    flushJunk();
    const data = userData(b, pos, length);
    if (typeof data === 'number') {
      items.push({
        type: 'error',
        error: dnp3Error('data_crc', `CRC mismatch in user data block ${data} (§9.2.5)`),
        skipped: size,
      });
    } else {
      items.push({ type: 'frame', frame: { header: readLinkHeader(b, pos), data } });
    }
    pos += size;
  }
  flushJunk();
  if (final && pos < b.length) {
    items.push({
      type: 'error',
      error: dnp3Error('truncated', `${b.length - pos} octets end before a whole link frame`),
      skipped: b.length - pos,
    });
    pos = b.length;
  }
  return { items, used: pos };
}

/** Link frames of one byte stream (one direction of a TCP connection). */
export interface LinkDeframer {
  push(data: Uint8Array): LinkScanItem[];
  /** Forgets a partial frame (a gap in the stream). */
  reset(): void;
  /** Octets held waiting for the rest of a frame (at most MAX_LINK_FRAME_BYTES - 1). */
  pending(): number;
}

export function createLinkDeframer(): LinkDeframer {
  let rest: Uint8Array = new Uint8Array(0);
  return {
    push(data) {
      let b = data;
      if (rest.length > 0) {
        b = new Uint8Array(rest.length + data.length);
        b.set(rest);
        b.set(data, rest.length);
      }
      const { items, used } = scanLinkFrames(b, false);
      rest = used < b.length ? b.slice(used) : new Uint8Array(0);
      return items;
    },
    reset() {
      rest = new Uint8Array(0);
    },
    pending: () => rest.length,
  };
}
