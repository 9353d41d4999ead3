/**
 * pcapng reader (draft-ietf-opsawg-pcapng): blocks of `type, length, body, length`. Each Section
 * Header Block sets the byte order (from its byte-order magic, §4.1) and starts a fresh list of
 * interfaces; Interface Description Blocks give each interface its link type and timestamp
 * resolution; Enhanced, Simple and obsolete Packet Blocks carry the packets. Other blocks (name
 * resolution, statistics, custom) are skipped.
 */
import { type CaptureItem, captureError, MAX_PACKET_BYTES, packetItem } from './types.ts';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const PB_OBSOLETE = 0x00000002;
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

interface Interface {
  linkType: number;
  snapLen: number;
  /** if_tsresol (§4.2): bit 7 clear, 10^-n seconds; set, 2^-n seconds. Default 6 (microseconds). */
  tsResol: number;
  /** if_tsoffset (§4.2): seconds added to every timestamp. */
  tsOffset: bigint;
}

/** Timestamp units of an interface to nanoseconds since the epoch. */
function toNanos(units: bigint, iface: Interface): bigint {
  const exp = BigInt(iface.tsResol & 0x7f);
  let ns: bigint;
  if (iface.tsResol & 0x80) ns = (units * 1_000_000_000n) / (1n << exp);
  else if (exp <= 9n) ns = units * 10n ** (9n - exp);
  else ns = units / 10n ** (exp - 9n);
  return ns + iface.tsOffset * 1_000_000_000n;
}

/** The IDB options we use (§4.2); options are `code, length, value` padded to 32 bits. */
function readIdbOptions(view: DataView, start: number, end: number, little: boolean, iface: Interface): void {
  let off = start;
  while (off + 4 <= end) {
    const code = view.getUint16(off, little);
    const len = view.getUint16(off + 2, little);
    if (code === OPT_END || off + 4 + len > end) return;
    if (code === IF_TSRESOL && len >= 1) iface.tsResol = view.getUint8(off + 4);
    if (code === IF_TSOFFSET && len >= 8) iface.tsOffset = view.getBigInt64(off + 4, little);
    off += 4 + ((len + 3) & ~3);
  }
}

/** What a reader knows between blocks: the section's byte order and its interfaces. */
export interface PcapngState {
  little: boolean;
  interfaces: Interface[];
  /** True once the first Section Header Block was read. */
  started: boolean;
}

export function createPcapngState(): PcapngState {
  return { little: true, interfaces: [], started: false };
}

/**
 * One step of reading: the block at `off` needs more bytes (`need`, with the bytes it needs in
 * all, when its length is known), or it was read (`block`, its length and the packet or error it
 * gave), or the input cannot be read on (`fatal`). Shared by the whole-buffer reader below and
 * the chunked reader in stream.ts, so both read exactly the same blocks.
 */
export type PcapngStep =
  | { kind: 'need'; total?: number }
  | { kind: 'block'; len: number; item?: CaptureItem }
  | { kind: 'fatal'; item: CaptureItem };

const fatal = (item: CaptureItem): PcapngStep => ({ kind: 'fatal', item });

export function readPcapngBlock(
  bytes: Uint8Array,
  off: number,
  state: PcapngState,
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
): PcapngStep {
  if (bytes.length - off < 12) return { kind: 'need' };
  const type = view.getUint32(off, state.little);
  if (type === SHB) {
    // §4.1: the byte-order magic follows the block length; it decides how to read everything.
    const bom = view.getUint32(off + 8, true);
    if (bom === BYTE_ORDER_MAGIC) state.little = true;
    else if (view.getUint32(off + 8, false) === BYTE_ORDER_MAGIC) state.little = false;
    else return fatal(captureError('invalid_block', 'section header has no valid byte-order magic', off));
    state.interfaces = [];
    state.started = true;
  } else if (!state.started) {
    return fatal(captureError('invalid_block', 'pcapng must start with a section header block', off));
  }
  const little = state.little;
  const len = view.getUint32(off + 4, little);
  if (len < 12 || len % 4 !== 0 || len > MAX_PACKET_BYTES)
    return fatal(captureError('invalid_block', `block length ${len} is invalid`, off));
  if (off + len > bytes.length) return { kind: 'need', total: len };
  if (view.getUint32(off + len - 4, little) !== len)
    return fatal(captureError('invalid_block', 'trailing block length does not match the leading one', off));
  const bodyEnd = off + len - 4;
  const interfaces = state.interfaces;
  if (type === IDB) {
    if (len < 20) return fatal(captureError('invalid_block', 'interface description block too short', off));
    const iface: Interface = {
      linkType: view.getUint16(off + 8, little),
      snapLen: view.getUint32(off + 12, little),
      tsResol: 6,
      tsOffset: 0n,
    };
    readIdbOptions(view, off + 16, bodyEnd, little, iface);
    interfaces.push(iface);
    return { kind: 'block', len };
  }
  if (type === EPB || type === PB_OBSOLETE)
    return {
      kind: 'block',
      len,
      item: packetBlock(view, bytes, off, bodyEnd, little, interfaces, type === EPB),
    };
  if (type === SPB) {
    const iface = interfaces[0];
    if (!iface) {
      const item = captureError(
        'unknown_interface',
        'simple packet block before any interface description',
        off,
      );
      return { kind: 'block', len, item };
    }
    if (len < 16)
      return {
        kind: 'block',
        len,
        item: captureError('invalid_block', 'simple packet block too short', off),
      };
    // §4.4: the captured length is the original length, bounded by the block and the snap length.
    const original = view.getUint32(off + 8, little);
    let captured = Math.min(original, bodyEnd - (off + 12));
    if (iface.snapLen > 0) captured = Math.min(captured, iface.snapLen);
    const data = bytes.subarray(off + 12, off + 12 + captured);
    // SPBs carry no timestamp; report the epoch rather than invent a time.
    return { kind: 'block', len, item: packetItem(0, iface.linkType, data, original, 0, off) };
  }
  return { kind: 'block', len };
}

export function* readPcapng(bytes: Uint8Array): Generator<CaptureItem> {
  const state = createPcapngState();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  while (off < bytes.length) {
    const step = readPcapngBlock(bytes, off, state, view);
    if (step.kind === 'need') {
      yield step.total === undefined
        ? captureError('truncated', `block header cut short (${bytes.length - off} bytes)`, off)
        : captureError('truncated', `block needs ${step.total} bytes, ${bytes.length - off} remain`, off);
      return;
    }
    if (step.kind === 'fatal') {
      yield step.item;
      return;
    }
    if (step.item) yield step.item;
    off += step.len;
  }
}

/** An Enhanced Packet Block (§4.3) or the obsolete Packet Block (appendix) at `off`. */
function packetBlock(
  view: DataView,
  bytes: Uint8Array,
  off: number,
  bodyEnd: number,
  little: boolean,
  interfaces: Interface[],
  enhanced: boolean,
): CaptureItem {
  if (bodyEnd - off < 28) return captureError('invalid_block', 'packet block too short', off);
  const ifaceId = enhanced ? view.getUint32(off + 8, little) : view.getUint16(off + 8, little);
  const iface = interfaces[ifaceId];
  if (!iface)
    return captureError('unknown_interface', `packet names interface ${ifaceId}, not described`, off);
  const high = view.getUint32(off + 12, little);
  const low = view.getUint32(off + 16, little);
  const captured = view.getUint32(off + 20, little);
  const original = view.getUint32(off + 24, little);
  if (off + 28 + captured > bodyEnd) {
    return captureError('invalid_block', `packet claims ${captured} bytes, more than its block holds`, off);
  }
  const data = bytes.subarray(off + 28, off + 28 + captured);
  if (iface.tsResol === 6 && iface.tsOffset === 0n && high < 0x200000) {
    // The usual case, microseconds with no offset, in plain numbers: exact below 2^53 µs (year
    // 2255), and a third of a packet's cost was BigInt arithmetic (profiled with `--cpu-prof`).
    const micros = high * 0x1_0000_0000 + low;
    const ms = Math.floor(micros / 1000);
    return packetItem(ms, iface.linkType, data, original, ifaceId, off, (micros - ms * 1000) * 1000);
  }
  const units = (BigInt(high) << 32n) | BigInt(low);
  return packetItem(toNanos(units, iface), iface.linkType, data, original, ifaceId, off);
}
