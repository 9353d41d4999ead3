/**
 * Reads packet captures: classic pcap (both byte orders, microsecond and nanosecond magic) and
 * pcapng (Section Header, Interface Description, Enhanced, Simple and obsolete Packet Blocks, both
 * byte orders, `if_tsresol` and `if_tsoffset`). Used by `siem-gateway replay` and by the tests
 * that feed real captures through the codecs. Pure and defensive: a damaged file yields the
 * packets before the damage and a typed error, never an exception. Packet bytes are views into
 * the input (no copies), so keep the input alive as long as the packets.
 */
import { readPcapng } from './pcapng.ts';
import {
  type CaptureFormat,
  type CaptureItem,
  type CaptureResult,
  captureError,
  MAX_PACKET_BYTES,
  packetItem,
  plainBytes,
} from './types.ts';

export type {
  CaptureError,
  CaptureErrorCode,
  CaptureFormat,
  CaptureItem,
  CapturePacket,
  CaptureResult,
} from './types.ts';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAP_HEADER_BYTES = 24;
const PCAP_RECORD_BYTES = 16;
/** The capture format from the magic number, or null. */
export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat | null {
  if (bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getUint32(0, true);
  const be = view.getUint32(0, false);
  if (le === PCAPNG_SHB) return 'pcapng';
  for (const magic of [PCAP_MAGIC_US, PCAP_MAGIC_NS]) if (le === magic || be === magic) return 'pcap';
  return null;
}

/** Classic pcap (draft-ietf-opsawg-pcap §4, §5): a 24-byte header, then 16-byte record headers. */
function* readPcap(bytes: Uint8Array): Generator<CaptureItem> {
  if (bytes.length < PCAP_HEADER_BYTES) {
    yield captureError(
      'truncated',
      `pcap header needs ${PCAP_HEADER_BYTES} bytes, file has ${bytes.length}`,
      0,
    );
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = view.getUint32(0, true) === PCAP_MAGIC_US || view.getUint32(0, true) === PCAP_MAGIC_NS;
  const magic = view.getUint32(0, little);
  const nanos = magic === PCAP_MAGIC_NS;
  // The low 16 bits are the link type; the upper bits carry FCS information (§5).
  const linkType = view.getUint32(20, little) & 0xffff;
  let off = PCAP_HEADER_BYTES;
  while (off < bytes.length) {
    if (bytes.length - off < PCAP_RECORD_BYTES) {
      yield captureError('truncated', `record header cut short (${bytes.length - off} bytes)`, off);
      return;
    }
    const sec = view.getUint32(off, little);
    const frac = view.getUint32(off + 4, little);
    const captured = view.getUint32(off + 8, little);
    const original = view.getUint32(off + 12, little);
    if (captured > MAX_PACKET_BYTES) {
      yield captureError('invalid_block', `record claims ${captured} captured bytes`, off);
      return;
    }
    const start = off + PCAP_RECORD_BYTES;
    if (start + captured > bytes.length) {
      yield captureError('truncated', `record needs ${captured} bytes, ${bytes.length - start} remain`, off);
      return;
    }
    // Plain numbers: whole milliseconds and the nanoseconds after them (types.ts `Packet`).
    const ms = sec * 1000 + Math.floor(nanos ? frac / 1_000_000 : frac / 1000);
    const sub = nanos ? frac % 1_000_000 : (frac % 1000) * 1000;
    yield packetItem(ms, linkType, bytes.subarray(start, start + captured), original, 0, off, sub);
    off = start + captured;
  }
}

/** Packets and errors in file order. Stops at the first damage it cannot step over. */
export function* iterateCapture(file: Uint8Array): Generator<CaptureItem> {
  const bytes = plainBytes(file); // readFileSync's Buffer: packets are views of it
  const format = detectCaptureFormat(bytes);
  if (format === 'pcap') yield* readPcap(bytes);
  else if (format === 'pcapng') yield* readPcapng(bytes);
  else yield captureError('unknown_format', 'not a pcap or pcapng file (unknown magic number)', 0);
}

/** Reads a whole capture into packets and errors. Never throws. */
export function readCapture(bytes: Uint8Array): CaptureResult {
  const result: CaptureResult = { format: detectCaptureFormat(bytes), packets: [], errors: [] };
  for (const item of iterateCapture(bytes)) {
    if (item.type === 'packet') result.packets.push(item.packet);
    else result.errors.push(item.error);
  }
  return result;
}
