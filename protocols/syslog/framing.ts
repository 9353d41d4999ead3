/**
 * RFC 6587 framing for syslog over a byte stream (TCP, TLS, files), kept apart from parsing: the
 * deframer turns chunks, split anywhere, into whole message frames. The framing is detected per
 * frame, as rsyslog does: a frame starting with a non-zero digit is octet-counted (§3.4.1
 * `MSG-LEN SP SYSLOG-MSG`); anything else is non-transparent (§3.4.2) and ends at LF, CRLF or NUL.
 * Pure and bounded: it never throws, never holds more than one frame, and a bad frame costs at
 * most that frame (see "Recovery" below and SPEC.md). A frame whole in the chunk pushed is a view
 * of that chunk, not a copy (a copy and its backing store per event were a tenth of what the TCP
 * syslog path allocated, issue 18): it is valid while the caller leaves the chunk as it is, and
 * both callers decode their frames before the next read. A frame assembled across chunks is a
 * copy, so a caller may reuse its read buffer between pushes.
 *
 * Recovery:
 * - a length that is not followed by SP (`12ab`), or has more digits than maxFrameBytes can need
 *   plus one: `invalid_length`; the frame is read as non-transparent instead, so its bytes are
 *   kept and the stream resynchronises at the next LF/NUL;
 * - an octet count over maxFrameBytes (but within 10× of it in magnitude, as above):
 *   `frame_too_large`; exactly that many bytes are skipped without being buffered, which keeps
 *   the stream in sync;
 * - a non-transparent frame over maxFrameBytes: `frame_too_large`; bytes are dropped up to the
 *   next LF/NUL, and the error reports how many;
 * - at `end()`, an octet-counted frame cut short: `truncated_frame`. An unterminated
 *   non-transparent frame is delivered (a sender closing without a final LF is common).
 */

export type FramingErrorCode = 'invalid_length' | 'frame_too_large' | 'truncated_frame';

export interface FramingError {
  code: FramingErrorCode;
  message: string;
  /** Bytes the error concerns: the dropped bytes for `frame_too_large`, received ones otherwise. */
  bytes: number;
}

export interface DeframeResult {
  frames: Uint8Array[];
  errors: FramingError[];
}

export interface SyslogDeframerOptions {
  /** Largest frame delivered, in bytes (the octet count, or the bytes before a LF). */
  maxFrameBytes: number;
}

export interface SyslogDeframer {
  push(chunk: Uint8Array): DeframeResult;
  /** The stream ended: deliver a trailing unterminated LF frame, report a cut-short one. */
  end(): DeframeResult;
}

const LF = 10;
const CR = 13;
const NUL = 0;
const SP = 32;

type State =
  | { kind: 'start' }
  | { kind: 'length'; value: number; header: number[] }
  | { kind: 'octets'; remaining: number; parts: Uint8Array[]; size: number }
  | { kind: 'skip'; remaining: number }
  | { kind: 'lf'; parts: Uint8Array[]; size: number }
  | { kind: 'discard'; dropped: number };

/** The state between frames: one object, not one per frame. */
const START: State = { kind: 'start' };

/**
 * A copy of part of a chunk. Not `chunk.slice`: on a Node Buffer that is a view, and a caller
 * reusing its read buffer would then change a frame still being assembled.
 */
function copy(chunk: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(chunk.subarray(start, end));
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Finds trailers (LF or NUL) in one chunk. The NUL position is cached, so a chunk holding many
 * small LF frames and no NUL is scanned once, not once per frame.
 */
function trailerFinder(chunk: Uint8Array): (from: number) => number {
  let nul = -2;
  return (from) => {
    if (nul !== -1 && nul < from) nul = chunk.indexOf(NUL, from);
    const lf = chunk.indexOf(LF, from);
    if (lf < 0) return nul;
    if (nul < 0) return lf;
    return Math.min(lf, nul);
  };
}

export function createSyslogDeframer(options: SyslogDeframerOptions): SyslogDeframer {
  const max = Math.max(1, Math.floor(options.maxFrameBytes));
  // A count with more digits than this is garbage, not an oversized frame worth skipping.
  const maxDigits = String(max).length + 1;
  let state: State = START;

  const tooLarge = (bytes: number, what: string): FramingError => ({
    code: 'frame_too_large',
    message: `${what} of ${bytes} bytes exceeds the ${max} byte limit; dropped`,
    bytes,
  });

  /** Delivers a non-transparent frame without its CR (of CRLF); empty frames are skipped. */
  const deliverLf = (bytes: Uint8Array, out: DeframeResult) => {
    let frame = bytes;
    if (frame.length > 0 && frame[frame.length - 1] === CR) frame = frame.subarray(0, frame.length - 1);
    if (frame.length > max) out.errors.push(tooLarge(frame.length, 'LF-terminated frame'));
    else if (frame.length > 0) out.frames.push(frame);
  };
  const finishLf = (parts: Uint8Array[], size: number, out: DeframeResult) =>
    deliverLf(concat(parts, size), out);

  const push = (chunk: Uint8Array): DeframeResult => {
    const out: DeframeResult = { frames: [], errors: [] };
    const findTrailer = trailerFinder(chunk);
    let i = 0;
    while (i < chunk.length) {
      const s = state;
      switch (s.kind) {
        case 'start': {
          const b = chunk[i]!;
          if (b === LF || b === NUL) {
            i++; // an empty frame between trailers
          } else if (b >= 49 && b <= 57) {
            state = { kind: 'length', value: b - 48, header: [b] };
            i++;
          } else {
            const end = findTrailer(i);
            if (end >= 0) {
              // The whole frame is in this chunk (the usual case): a view of it, nothing copied.
              deliverLf(chunk.subarray(i, end), out);
              i = end + 1;
            } else state = { kind: 'lf', parts: [], size: 0 };
          }
          break;
        }
        case 'length': {
          const b = chunk[i]!;
          if (b >= 48 && b <= 57 && s.header.length < maxDigits) {
            s.value = s.value * 10 + (b - 48);
            s.header.push(b);
            i++;
          } else if (b === SP) {
            i++;
            if (s.value > max) {
              out.errors.push(tooLarge(s.value, 'octet-counted frame'));
              state = { kind: 'skip', remaining: s.value };
            } else if (s.value <= chunk.length - i) {
              // The whole frame is in this chunk: a view of it, nothing copied.
              out.frames.push(chunk.subarray(i, i + s.value));
              i += s.value;
              state = START;
            } else {
              state = { kind: 'octets', remaining: s.value, parts: [], size: 0 };
            }
          } else {
            out.errors.push({
              code: 'invalid_length',
              message: `octet count "${String.fromCharCode(...s.header)}" is not followed by SP; read as an LF-terminated frame`,
              bytes: s.header.length,
            });
            const header = Uint8Array.from(s.header);
            state = { kind: 'lf', parts: [header], size: header.length };
          }
          break;
        }
        case 'octets': {
          const n = Math.min(s.remaining, chunk.length - i);
          s.parts.push(copy(chunk, i, i + n));
          s.size += n;
          s.remaining -= n;
          i += n;
          if (s.remaining === 0) {
            out.frames.push(concat(s.parts, s.size));
            state = START;
          }
          break;
        }
        case 'skip': {
          const n = Math.min(s.remaining, chunk.length - i);
          s.remaining -= n;
          i += n;
          if (s.remaining === 0) state = START;
          break;
        }
        case 'lf': {
          const end = findTrailer(i);
          const stop = end < 0 ? chunk.length : end;
          s.parts.push(copy(chunk, i, stop));
          s.size += stop - i;
          if (end >= 0) {
            finishLf(s.parts, s.size, out);
            state = START;
            i = end + 1;
          } else {
            i = chunk.length;
            // One byte of slack for the CR of a CRLF that may arrive in the next chunk.
            if (s.size > max + 1) state = { kind: 'discard', dropped: s.size };
          }
          break;
        }
        case 'discard': {
          const end = findTrailer(i);
          if (end < 0) {
            s.dropped += chunk.length - i;
            i = chunk.length;
          } else {
            out.errors.push(tooLarge(s.dropped + (end - i), 'LF-terminated frame'));
            state = START;
            i = end + 1;
          }
          break;
        }
      }
    }
    return out;
  };

  const end = (): DeframeResult => {
    const out: DeframeResult = { frames: [], errors: [] };
    const s = state;
    state = START;
    switch (s.kind) {
      case 'length':
        // Digits and nothing else: not a usable octet count, so an unterminated LF frame.
        finishLf([Uint8Array.from(s.header)], s.header.length, out);
        break;
      case 'octets':
        out.errors.push({
          code: 'truncated_frame',
          message: `stream ended ${s.remaining} bytes short of an octet-counted frame`,
          bytes: s.size,
        });
        break;
      case 'lf':
        finishLf(s.parts, s.size, out);
        break;
      case 'discard':
        out.errors.push(tooLarge(s.dropped, 'LF-terminated frame'));
        break;
      default:
        break;
    }
    return out;
  };

  return { push, end };
}

const encoder = new TextEncoder();

function toBytes(message: Uint8Array | string): Uint8Array {
  return typeof message === 'string' ? encoder.encode(message) : message;
}

/** RFC 6587 §3.4.1: `MSG-LEN SP SYSLOG-MSG`. Safe for any message content. */
export function frameOctetCounting(message: Uint8Array | string): Uint8Array {
  const body = toBytes(message);
  const header = encoder.encode(`${body.length} `);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/**
 * RFC 6587 §3.4.2: the message followed by LF. The message must not contain LF or NUL, nor start
 * with a digit 1–9 (a receiver would take it for an octet count); use octet counting for those.
 */
export function frameLf(message: Uint8Array | string): Uint8Array {
  const body = toBytes(message);
  const out = new Uint8Array(body.length + 1);
  out.set(body, 0);
  out[body.length] = LF;
  return out;
}
