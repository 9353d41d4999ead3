/**
 * ISO-on-TCP framing for S7comm: the TPKT header (RFC 1006 §6: version 3, reserved 0, a 16-bit
 * length counting the header) cuts a TCP byte stream into TPDUs however it was segmented, and
 * `parseCotp` reads the COTP class 0 TPDU inside (ISO 8073 / X.224 §13: CR, CC, DR, DC, ER, DT).
 * The deframer never throws and never buffers more than one TPKT (at most 65,535 bytes, the
 * field's own limit). After bytes that cannot start a TPKT it resynchronises on the next
 * plausible header (03 00, a length of at least 7, a COTP length indicator that fits, a known
 * TPDU code) and reports the skipped bytes as one typed error.
 */
import {
  COTP_TYPES,
  type CotpTpdu,
  MAX_TPKT_BYTES,
  MIN_TPKT_BYTES,
  type S7Error,
  type S7Result,
  TPKT_HEADER_BYTES,
} from './types.ts';

export interface TpktFramingError extends S7Error {
  /** The bytes skipped to resynchronise (at most 256 kept, for the event's preview). */
  skipped: Uint8Array;
}

export interface TpktDeframeResult {
  /** Each TPKT's payload (the COTP TPDU), a view into the pushed chunk or a private copy. */
  tpdus: Uint8Array[];
  errors: TpktFramingError[];
}

export interface TpktDeframer {
  push(chunk: Uint8Array): TpktDeframeResult;
  /** Discards buffered bytes (after a gap in a capture). */
  reset(): void;
  buffered(): number;
}

/** Whether a TPKT header that passes its own checks is followed by a plausible COTP header. */
function plausibleAt(b: Uint8Array, at: number): boolean | null {
  if (b.length - at < 4) return null; // cannot tell yet
  if (b[at] !== 3 || b[at + 1] !== 0) return false;
  const len = (b[at + 2]! << 8) | b[at + 3]!;
  if (len < MIN_TPKT_BYTES) return false;
  if (b.length - at < 6) return null;
  const li = b[at + 4]!;
  const code = b[at + 5]! >> 4;
  return li >= 2 && li < len - TPKT_HEADER_BYTES && COTP_TYPES[code] !== undefined;
}

const EMPTY: TpktDeframeResult = { tpdus: [], errors: [] };

export function createTpktDeframer(): TpktDeframer {
  // Bytes of a TPKT not yet complete. The store grows by doubling (a TPKT arriving one byte at
  // a time costs linear, not quadratic, copying) and is replaced, never rewritten, once TPDUs
  // have been cut from it, so the views already handed out stay valid.
  let store = new Uint8Array(0);
  let len = 0;
  return {
    push(chunk) {
      if (chunk.length === 0) return EMPTY;
      let buf: Uint8Array;
      if (len === 0) buf = chunk;
      else {
        if (len + chunk.length > store.length) {
          const grown = new Uint8Array(Math.max(len + chunk.length, store.length * 2));
          grown.set(store.subarray(0, len));
          store = grown;
        }
        store.set(chunk, len);
        len += chunk.length;
        buf = store.subarray(0, len);
      }
      const tpdus: Uint8Array[] = [];
      const errors: TpktFramingError[] = [];
      let off = 0;
      while (buf.length - off >= TPKT_HEADER_BYTES) {
        const ok = plausibleAt(buf, off);
        if (ok === null) break;
        if (!ok) {
          // Scan for the next plausible header: each byte is looked at once.
          let at = off + 1;
          while (at < buf.length && plausibleAt(buf, at) === false) at++;
          const bad = (buf[off + 2]! << 8) | buf[off + 3]!;
          errors.push({
            code: 'invalid_tpkt',
            message:
              buf[off] !== 3 || buf[off + 1] !== 0
                ? `not a TPKT header (version ${buf[off]}, reserved ${buf[off + 1]})`
                : `TPKT length ${bad} cannot hold a COTP TPDU`,
            skipped: buf.slice(off, Math.min(at, off + 256)),
          });
          off = at;
          continue;
        }
        const size = (buf[off + 2]! << 8) | buf[off + 3]!;
        if (off + size > buf.length) break;
        tpdus.push(buf.subarray(off + TPKT_HEADER_BYTES, off + size));
        off += size;
      }
      if (off === buf.length) {
        store = new Uint8Array(0);
        len = 0;
      } else if (off > 0 || buf === chunk) {
        // At most one partial TPKT (MAX_TPKT_BYTES) is kept, in a store of its own.
        const rest = buf.subarray(off);
        store = new Uint8Array(Math.max(rest.length * 2, 64));
        store.set(rest);
        len = rest.length;
      }
      return tpdus.length === 0 && errors.length === 0 ? EMPTY : { tpdus, errors };
    },
    reset() {
      store = new Uint8Array(0);
      len = 0;
    },
    buffered: () => len,
  };
}

/** Wraps one COTP TPDU into a TPKT (for tests and fixtures). */
export function encodeTpkt(cotp: Uint8Array): Uint8Array {
  const len = cotp.length + TPKT_HEADER_BYTES;
  if (len > MAX_TPKT_BYTES) throw new RangeError(`TPKT of ${len} bytes`);
  const out = new Uint8Array(len);
  out[0] = 3;
  out[2] = len >> 8;
  out[3] = len & 0xff;
  out.set(cotp, TPKT_HEADER_BYTES);
  return out;
}

const fail = (code: S7Error['code'], message: string): S7Result<CotpTpdu> => ({
  ok: false,
  error: { code, message },
});

/** Parses one COTP TPDU (the payload of a TPKT). Never throws. */
export function parseCotp(b: Uint8Array): S7Result<CotpTpdu> {
  if (b.length < 2) return fail('truncated', `COTP of ${b.length} bytes`);
  const li = b[0]!;
  // X.224 §13.2.1: the length indicator counts the header after itself, at most 254.
  if (li < 1 || li === 255 || li + 1 > b.length)
    return fail('invalid_cotp', `COTP length indicator ${li} for ${b.length} bytes`);
  const code = b[1]! >> 4;
  const typeName = COTP_TYPES[code];
  if (!typeName) return fail('invalid_cotp', `unknown COTP TPDU code 0x${b[1]!.toString(16)}`);
  const payload = b.subarray(li + 1);
  if (code === 0xf) {
    // §13.7: class 0 DT header is LI=2, code, then EOT (bit 8) and TPDU-NR.
    if (li < 2) return fail('invalid_cotp', `COTP DT length indicator ${li}`);
    return {
      ok: true,
      value: { type: code, typeName, eot: (b[2]! & 0x80) !== 0, tpduNumber: b[2]! & 0x7f, payload },
    };
  }
  const out: CotpTpdu = { type: code, typeName, payload };
  if (li >= 5 && (code === 0xe || code === 0xd || code === 0x8 || code === 0xc)) {
    out.dstRef = (b[2]! << 8) | b[3]!;
    out.srcRef = (b[4]! << 8) | b[5]!;
  }
  if (code === 0x8 && li >= 6) out.reason = b[6]!;
  if ((code === 0xe || code === 0xd) && li >= 6) {
    // §13.3.4: variable part of CR/CC, TLV parameters after the class/option byte.
    let at = 7;
    const end = li + 1;
    while (at + 2 <= end) {
      const p = b[at]!;
      const plen = b[at + 1]!;
      const v = b.subarray(at + 2, Math.min(end, at + 2 + plen));
      if (at + 2 + plen > end) return fail('invalid_cotp', `COTP parameter 0x${p.toString(16)} overruns`);
      if (p === 0xc0 && plen === 1 && v[0]! >= 7 && v[0]! <= 13) out.tpduSizeBytes = 1 << v[0]!;
      else if (p === 0xc1) out.srcTsap = Buffer.from(v).toString('hex');
      else if (p === 0xc2) out.dstTsap = Buffer.from(v).toString('hex');
      at += 2 + plen;
    }
  }
  return { ok: true, value: out };
}
