/**
 * DNP3 transport function (IEEE 1815-2012 §8): joins the segments of one application fragment.
 * Each link frame's user data opens with a transport octet (FIN, FIR, 6-bit sequence); a fragment
 * starts at FIR, continues with sequence + 1 modulo 64 (so a long fragment wraps 63 → 0, §8.2.1.2)
 * and ends at FIN. A FIR drops whatever was half built; a segment out of sequence or without a
 * FIR before it is reported and dropped. Fragments larger than the cap are refused without being
 * kept. One reassembly per link source/destination pair and stream, bounded in number. Pure.
 */
import { DNP3_LIMITS, dnp3Error, type Dnp3Error, type TransportHeader } from './types.ts';

export const readTransportHeader = (t: number): TransportHeader => ({
  fin: (t & 0x80) !== 0,
  fir: (t & 0x40) !== 0,
  seq: t & 0x3f,
});

export type TransportResult<M> =
  | { type: 'fragment'; data: Uint8Array; segments: number; firstMeta: M }
  | { type: 'error'; error: Dnp3Error }
  | null;

interface Building<M> {
  chunks: Uint8Array[];
  bytes: number;
  nextSeq: number;
  firstMeta: M;
  /** Over the cap: keep counting sequence numbers but drop the bytes until FIN. */
  overflow: boolean;
}

export interface TransportReassembler<M> {
  /** One segment (a link frame's user data, transport octet first) of the stream `key`. */
  push(key: string, segment: Uint8Array, meta: M): TransportResult<M>;
  /** Fragments half built. */
  open(): number;
  /** Drops the half-built fragments whose key starts with `prefix` (all without one). */
  clear(prefix?: string): void;
}

export function createTransportReassembler<M>(
  maxFragmentBytes: number = DNP3_LIMITS.MAX_FRAGMENT_BYTES,
): TransportReassembler<M> {
  const building = new Map<string, Building<M>>();
  return {
    push(key, segment, meta) {
      const th = readTransportHeader(segment[0]!);
      const body = segment.subarray(1);
      let b = building.get(key);
      if (th.fir) {
        if (th.fin) {
          if (b) building.delete(key);
          return { type: 'fragment', data: body, segments: 1, firstMeta: meta };
        }
        if (!b && building.size >= DNP3_LIMITS.MAX_REASSEMBLIES) {
          const oldest = building.keys().next();
          if (!oldest.done) building.delete(oldest.value);
        }
        b = { chunks: [], bytes: 0, nextSeq: th.seq, firstMeta: meta, overflow: false };
        building.set(key, b);
      } else if (!b) {
        return {
          type: 'error',
          error: dnp3Error(
            'transport_orphan',
            `transport segment seq ${th.seq} without a FIR segment before it (§8.2.1.2)`,
          ),
        };
      }
      if (th.seq !== b.nextSeq) {
        building.delete(key);
        return {
          type: 'error',
          error: dnp3Error('transport_sequence', `transport seq ${th.seq}, expected ${b.nextSeq} (§8.2.1.2)`),
        };
      }
      b.nextSeq = (th.seq + 1) & 0x3f;
      if (!b.overflow) {
        if (b.bytes + body.length > maxFragmentBytes) {
          b.overflow = true;
          b.chunks = [];
        } else {
          b.chunks.push(body);
          b.bytes += body.length;
        }
      }
      if (!th.fin) return null;
      building.delete(key);
      if (b.overflow)
        return {
          type: 'error',
          error: dnp3Error(
            'fragment_too_large',
            `application fragment over ${maxFragmentBytes} octets dropped`,
          ),
        };
      const data = new Uint8Array(b.bytes);
      let at = 0;
      for (const c of b.chunks) {
        data.set(c, at);
        at += c.length;
      }
      return { type: 'fragment', data, segments: b.chunks.length, firstMeta: b.firstMeta };
    },
    open: () => building.size,
    clear(prefix) {
      if (prefix === undefined) building.clear();
      else for (const key of [...building.keys()]) if (key.startsWith(prefix)) building.delete(key);
    },
  };
}
