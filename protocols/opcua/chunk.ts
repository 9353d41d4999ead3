/**
 * OPC UA binary framing (OPC 10000-6 §7.1.2 UA TCP and §6.7.2 UA Secure Conversation): the 8-byte
 * chunk header (3 ASCII bytes of message type, 1 of chunk type, UInt32 MessageSize), a stream
 * deframer that cuts one direction of a TCP connection into chunks however it was segmented, and
 * the parse of each chunk's own headers (HEL, ACK, ERR, RHE; the secure channel id, security
 * headers and sequence header of OPN, MSG and CLO). A chunk larger than the cap is refused, never
 * buffered. After garbage the deframer scans forward for the next plausible header, so a good
 * chunk after junk is still decoded; each byte is examined a bounded number of times.
 */
import { Reader, ReadError } from './reader.ts';
import {
  CHUNK_HEADER_BYTES,
  type ChunkHeader,
  MESSAGE_TYPES,
  OPCUA_LIMITS,
  type OpcuaChunkType,
  type OpcuaError,
  type OpcuaMessageType,
  type OpcuaResult,
  SECURITY_POLICY_NONE,
} from './types.ts';

/** `HEL` … `CLO` as the 24-bit big-endian numbers of their ASCII bytes. */
const TYPE_CODES = new Map<number, OpcuaMessageType>(
  MESSAGE_TYPES.map((t) => [(t.charCodeAt(0) << 16) | (t.charCodeAt(1) << 8) | t.charCodeAt(2), t]),
);
/** Shared by every deframer with nothing held (never written to). */
const EMPTY = new Uint8Array(0);
const F = 0x46;
const C = 0x43;
const A = 0x41;

/** A chunk's header, or why these 8 bytes cannot start one. */
export function readChunkHeader(
  b: Uint8Array,
  at = 0,
  maxChunkBytes: number = OPCUA_LIMITS.MAX_CHUNK_BYTES,
): OpcuaResult<ChunkHeader> {
  const type = TYPE_CODES.get((b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!);
  if (!type) return fail('invalid_message_type', `message type ${hex(b.subarray(at, at + 3))}`);
  const c = b[at + 3]!;
  if (c !== F && c !== C && c !== A) return fail('invalid_chunk_type', `chunk type 0x${c.toString(16)}`);
  // §7.1.2.2: only MSG (and OPN/CLO in principle) may be split; HEL, ACK, ERR, RHE are single chunks.
  const chunkType = String.fromCharCode(c) as OpcuaChunkType;
  if (chunkType !== 'F' && (type === 'HEL' || type === 'ACK' || type === 'ERR' || type === 'RHE'))
    return fail('invalid_chunk_type', `${type} with chunk type ${chunkType}`);
  const size = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0;
  if (size < CHUNK_HEADER_BYTES + 4) return fail('invalid_size', `MessageSize ${size}`);
  if (size > maxChunkBytes)
    return fail('chunk_too_large', `MessageSize ${size} over the ${maxChunkBytes}-byte cap`);
  return { ok: true, value: { type, chunkType, size } };
}

/** The headers of one chunk, and where its body starts (MSG/OPN/CLO after the sequence header). */
export interface ParsedChunk {
  header: ChunkHeader;
  secureChannelId?: number;
  tokenId?: number;
  securityPolicyUri?: string | null;
  senderCertificateBytes?: number;
  receiverThumbprintBytes?: number;
  sequenceNumber?: number;
  requestId?: number;
  /** OPN with a policy other than None: everything after the security header is encrypted. */
  encrypted?: boolean;
  /** Offset of the body in `bytes` (service NodeId, or the HEL/ACK/ERR/RHE fields). */
  bodyStart: number;
  bytes: Uint8Array;
}

/** Parses the headers of one complete chunk (`bytes` holds exactly one). Never throws. */
export function parseChunk(bytes: Uint8Array, header: ChunkHeader): OpcuaResult<ParsedChunk> {
  const r = new Reader(bytes, CHUNK_HEADER_BYTES);
  const out: ParsedChunk = { header, bodyStart: CHUNK_HEADER_BYTES, bytes };
  try {
    if (header.type === 'OPN' || header.type === 'MSG' || header.type === 'CLO') {
      out.secureChannelId = r.u32();
      if (header.type === 'OPN') {
        // §6.7.2.3 asymmetric security header: the policy URI is at most 255 bytes.
        out.securityPolicyUri = r.string(255);
        out.senderCertificateBytes = Math.max(0, r.byteStringLength());
        out.receiverThumbprintBytes = Math.max(0, r.byteStringLength());
        if (out.securityPolicyUri !== null && out.securityPolicyUri !== SECURITY_POLICY_NONE) {
          out.encrypted = true;
          out.bodyStart = r.off;
          return { ok: true, value: out };
        }
      } else out.tokenId = r.u32();
      out.sequenceNumber = r.u32();
      out.requestId = r.u32();
    }
    out.bodyStart = r.off;
    return { ok: true, value: out };
  } catch (e) {
    return fail(e instanceof ReadError ? e.code : 'invalid_encoding', (e as Error).message);
  }
}

/** `readChunkHeader(...).ok` without building an error: the resynchronisation scan's test. */
function plausible(b: Uint8Array, at: number, maxChunkBytes: number): boolean {
  if (!TYPE_CODES.has((b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!)) return false;
  return readChunkHeader(b, at, maxChunkBytes).ok;
}

export interface DeframedChunk {
  header: ChunkHeader;
  /** Exactly the chunk's bytes (a view; copy before keeping it past the next push). */
  bytes: Uint8Array;
}

export interface DeframeError extends OpcuaError {
  /** The bytes skipped to resynchronise (at most 256 kept, for the event's preview). */
  skipped: Uint8Array;
  skippedBytes: number;
}

export interface ChunkDeframer {
  push(data: Uint8Array): { chunks: DeframedChunk[]; errors: DeframeError[] };
  /** Discards buffered bytes (after a gap in a capture). */
  reset(): void;
  buffered(): number;
}

/**
 * A deframer for one direction of one connection. On an invalid header it reports the error once,
 * then skips to the next offset holding a plausible header (known type, chunk type, sane size),
 * keeping at most 7 bytes that might be the start of one; so memory stays under one chunk cap.
 */
export function createChunkDeframer(maxChunkBytes: number = OPCUA_LIMITS.MAX_CHUNK_BYTES): ChunkDeframer {
  let buf: Uint8Array = EMPTY;
  let junk: { error: OpcuaError; start: Uint8Array; bytes: number } | null = null;
  const flushJunk = (errors: DeframeError[]) => {
    if (!junk) return;
    errors.push({ ...junk.error, skipped: junk.start, skippedBytes: junk.bytes });
    junk = null;
  };
  const addJunk = (error: OpcuaError | null, bytes: Uint8Array) => {
    if (!junk)
      junk = {
        error: error ?? { code: 'invalid_message_type', message: 'garbage' },
        start: bytes.slice(0, 256),
        bytes: 0,
      };
    junk.bytes += bytes.length;
  };
  return {
    push(data) {
      const chunks: DeframedChunk[] = [];
      const errors: DeframeError[] = [];
      if (data.length === 0) return { chunks, errors };
      if (buf.length === 0) buf = data;
      else {
        const next = new Uint8Array(buf.length + data.length);
        next.set(buf);
        next.set(data, buf.length);
        buf = next;
      }
      let off = 0;
      while (buf.length - off >= CHUNK_HEADER_BYTES) {
        const h = readChunkHeader(buf, off, maxChunkBytes);
        if (!h.ok) {
          // Resynchronise: the next offset whose 8 bytes could be a header.
          let next = off + 1;
          while (next + CHUNK_HEADER_BYTES <= buf.length && !plausible(buf, next, maxChunkBytes)) next++;
          addJunk(h.error, buf.subarray(off, next));
          off = next;
          continue;
        }
        if (off + h.value.size > buf.length) break;
        flushJunk(errors);
        chunks.push({ header: h.value, bytes: buf.subarray(off, off + h.value.size) });
        off += h.value.size;
      }
      buf = off === buf.length ? EMPTY : buf.slice(off);
      // Reported at once (a junk run cut across pushes is reported once per push).
      flushJunk(errors);
      return { chunks, errors };
    },
    reset() {
      buf = EMPTY;
      junk = null;
    },
    buffered: () => buf.length,
  };
}

function fail<T>(code: OpcuaError['code'], message: string): OpcuaResult<T> {
  return { ok: false, error: { code, message } };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
