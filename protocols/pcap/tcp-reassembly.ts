/**
 * TCP stream reassembly for captures: each direction of each connection becomes one in-order
 * byte stream, ready for a stream deframer (syslog RFC 6587, Modbus MBAP, MQTT). Segments are
 * placed by sequence number (RFC 9293 §3.4, modulo 2^32), so reordering is undone and
 * retransmissions and overlaps are dropped (an overlapping byte is taken from the segment that
 * starts earlier in sequence space, or arrived first when they start together). Bytes the capture
 * missed are recorded as gaps, not invented. A SYN with a new initial sequence number on a
 * known 4-tuple starts a new stream (port reuse). Enough for test traces and forensic replay; it
 * is not an IDS-grade reassembler (no per-OS overlap policies, no window checks).
 */
import { type DecodedPacket, TCP_FLAGS } from './decode.ts';

/** A decoded packet, with its capture time when known. Non-TCP packets are ignored. */
export type TcpSegmentInput = DecodedPacket & { ts?: Date };

export interface TcpStream {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** The captured bytes in sequence order (gaps are left out, see `gaps`). */
  data: Uint8Array;
  /** Sequence ranges never captured: where in `data` they would have been, and how many bytes. */
  gaps: Array<{ offset: number; length: number }>;
  /** Which byte ranges of `data` came from which packet, with its capture time. */
  segments: Array<{ offset: number; length: number; ts?: Date }>;
  synSeen: boolean;
  finSeen: boolean;
  rstSeen: boolean;
}

interface Segment {
  /** Offset from the stream's base sequence number (signed: data before the first seen is negative). */
  rel: number;
  payload: Uint8Array;
  ts?: Date;
}

interface Direction {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** Sequence number of the first data byte: ISN + 1 after a SYN, else the first data seen. */
  base: number | null;
  segments: Segment[];
  synSeen: boolean;
  finSeen: boolean;
  rstSeen: boolean;
}

function newDirection(p: DecodedPacket): Direction {
  return {
    src: p.src,
    srcPort: p.srcPort,
    dst: p.dst,
    dstPort: p.dstPort,
    base: null,
    segments: [],
    synSeen: false,
    finSeen: false,
    rstSeen: false,
  };
}

/** Signed distance from `base` to `seq` in 32-bit sequence space. */
function seqOffset(seq: number, base: number): number {
  return (seq - base) | 0;
}

function assemble(d: Direction): TcpStream {
  const segs = d.segments.slice().sort((a, b) => a.rel - b.rel);
  // Without a SYN the earliest byte seen is the start; after a SYN, data before ISN+1 is bogus.
  let next = d.synSeen ? 0 : (segs[0]?.rel ?? 0);
  const parts: Uint8Array[] = [];
  const gaps: TcpStream['gaps'] = [];
  const segments: TcpStream['segments'] = [];
  let size = 0;
  for (const s of segs) {
    const end = s.rel + s.payload.length;
    if (end <= next) continue; // a retransmission or a segment wholly inside data we have
    if (s.rel > next) {
      gaps.push({ offset: size, length: s.rel - next });
      next = s.rel;
    }
    const piece = s.payload.subarray(next - s.rel);
    parts.push(piece);
    segments.push(
      s.ts ? { offset: size, length: piece.length, ts: s.ts } : { offset: size, length: piece.length },
    );
    size += piece.length;
    next = end;
  }
  const data = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return {
    src: d.src,
    srcPort: d.srcPort,
    dst: d.dst,
    dstPort: d.dstPort,
    data,
    gaps,
    segments,
    synSeen: d.synSeen,
    finSeen: d.finSeen,
    rstSeen: d.rstSeen,
  };
}

/**
 * Reassembles the TCP packets of a capture into one stream per connection direction, in the
 * order each direction was first seen. UDP packets are ignored.
 */
export function reassembleTcp(packets: Iterable<TcpSegmentInput>): TcpStream[] {
  const open = new Map<string, Direction>();
  const all: Direction[] = [];
  for (const p of packets) {
    if (p.proto !== 'tcp' || !p.tcp) continue;
    const key = `${p.src}|${p.srcPort}|${p.dst}|${p.dstPort}`;
    const { seq, flags } = p.tcp;
    let d = open.get(key);
    if (flags & TCP_FLAGS.SYN) {
      const isn1 = (seq + 1) >>> 0;
      // A SYN with another ISN on a known 4-tuple is a new connection reusing the ports.
      if (d?.synSeen && d.base !== isn1) d = undefined;
      if (d && !d.synSeen && d.segments.length > 0) d = undefined;
      if (!d) {
        d = newDirection(p);
        open.set(key, d);
        all.push(d);
      }
      d.synSeen = true;
      d.base = isn1;
    } else if (!d) {
      d = newDirection(p);
      open.set(key, d);
      all.push(d);
    }
    if (flags & TCP_FLAGS.FIN) d.finSeen = true;
    if (flags & TCP_FLAGS.RST) d.rstSeen = true;
    // A SYN's own sequence number is not data: data in a SYN (TFO) starts at ISN + 1.
    const dataSeq = flags & TCP_FLAGS.SYN ? (seq + 1) >>> 0 : seq;
    if (p.payload.length === 0) continue;
    if (d.base === null) d.base = dataSeq;
    const segment: Segment = { rel: seqOffset(dataSeq, d.base), payload: p.payload };
    if (p.ts) segment.ts = p.ts;
    d.segments.push(segment);
  }
  return all.map(assemble);
}
