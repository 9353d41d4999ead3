/**
 * Incremental TCP reassembly, packet by packet, for replaying captures and reading a live mirror
 * port: the batch `reassembleTcp` needs the whole capture, this one hands each direction's bytes
 * over in sequence order as soon as they are in order (RFC 9293 §3.4, modulo 2^32), with the
 * caller's metadata (frame number, capture time) of the packet that carried them. Retransmitted
 * and overlapping bytes are dropped; segments that arrive early wait, bounded per direction; when
 * the bound is hit, or at `flush()`, the hole is skipped and the next chunk says `gap: true`, so a
 * framer can resynchronise instead of gluing unrelated bytes. A direction's state is freed once
 * every byte before its FIN is delivered, and both directions' at a RST (what still waits behind a
 * hole is delivered first, as by `flush()`), so a long capture of short connections holds only
 * those still open (RFC 9293 §3.6, §3.10.7). A closed direction's last sequence number is kept,
 * bounded, so that a late retransmission is not taken for a new stream and a new connection on
 * the same ports starts with `gap: true`. Pure; never throws.
 */
import { type DecodedPacket, TCP_FLAGS } from './decode.ts';
import { EvictionCursor } from '../event/evict.ts';

export interface TcpFlow {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

export interface TcpChunk<M> {
  /** `src|sport|dst|dport`: the direction this chunk belongs to. */
  key: string;
  flow: TcpFlow;
  data: Uint8Array;
  /** Bytes were missed (or a new connection reused the ports) before this chunk. */
  gap: boolean;
  meta: M;
}

export interface TcpStreamTrackerOptions {
  /** Early bytes kept per direction while waiting for a hole to fill (default 256 KiB). */
  maxPendingBytes?: number;
  /** Directions tracked at once; the oldest is forgotten beyond it (default 65,536). */
  maxFlows?: number;
  /** Closed directions remembered (their end sequence number); the oldest is forgotten beyond it (default `maxFlows`). */
  maxClosed?: number;
}

interface Pending<M> {
  seq: number;
  data: Uint8Array;
  meta: M;
}

interface Direction<M> {
  key: string;
  flow: TcpFlow;
  /** The packets' `flowHash` it is found by in `byHash`, if it is. */
  hash: number | undefined;
  next: number | null;
  pending: Pending<M>[];
  pendingBytes: number;
  gap: boolean;
  /** The sequence number after the last byte, once the FIN was seen. */
  fin: number | null;
}

export interface TcpStreamTracker<M> {
  push(packet: DecodedPacket, meta: M): TcpChunk<M>[];
  /** Delivers whatever still waits behind holes (end of a capture). */
  flush(): TcpChunk<M>[];
  /** Directions tracked (open, or closing with bytes still to deliver). */
  flows(): number;
  /** Of those, the directions found by their packets' flow hash: never more than `flows()`. */
  indexed(): number;
}

const diff = (a: number, b: number) => (a - b) | 0;

const keyOf = (p: DecodedPacket) => `${p.src}|${p.srcPort}|${p.dst}|${p.dstPort}`;

const sameFlow = (f: TcpFlow, p: DecodedPacket) =>
  f.srcPort === p.srcPort && f.dstPort === p.dstPort && f.src === p.src && f.dst === p.dst;

export function createTcpStreamTracker<M>(options: TcpStreamTrackerOptions = {}): TcpStreamTracker<M> {
  const maxPending = options.maxPendingBytes ?? 256 * 1024;
  const maxFlows = options.maxFlows ?? 65_536;
  const maxClosed = options.maxClosed ?? maxFlows;
  const dirs = new Map<string, Direction<M>>();
  const oldestFlow = new EvictionCursor(dirs);
  /**
   * Directions by their packets' flow hash (decode.ts), looked up first: a key string made and
   * hashed per packet was most of this tracker's cost (`node --cpu-prof` on modbusBig.pcap). The
   * first direction of a hash is kept here; another with the same hash is found by its key.
   */
  const byHash = new Map<number, Direction<M>>();
  const forget = (d: Direction<M>) => {
    if (d.hash !== undefined && byHash.get(d.hash) === d) byHash.delete(d.hash);
  };
  /** Closed directions: key → the sequence number after their last byte. */
  const closed = new Map<string, number>();
  const oldestClosed = new EvictionCursor(closed);

  const emit = (d: Direction<M>, data: Uint8Array, meta: M, out: TcpChunk<M>[]) => {
    out.push({ key: d.key, flow: d.flow, data, gap: d.gap, meta });
    d.gap = false;
  };

  /** Delivers `data` at `seq` if it is next (trimming what was already delivered). */
  const accept = (d: Direction<M>, seq: number, data: Uint8Array, meta: M, out: TcpChunk<M>[]) => {
    const rel = diff(seq, d.next!);
    if (rel + data.length <= 0) return true; // retransmission
    if (rel > 0) return false;
    const fresh = data.subarray(-rel);
    emit(d, fresh, meta, out);
    d.next = (d.next! + fresh.length) >>> 0;
    return true;
  };

  const drain = (d: Direction<M>, out: TcpChunk<M>[]) => {
    let progressed = true;
    while (progressed && d.pending.length > 0) {
      progressed = false;
      for (let i = 0; i < d.pending.length; i++) {
        const p = d.pending[i]!;
        if (diff(p.seq, d.next!) <= 0) {
          d.pending.splice(i, 1);
          d.pendingBytes -= p.data.length;
          accept(d, p.seq, p.data, p.meta, out);
          progressed = true;
          break;
        }
      }
    }
  };

  /** Skips the hole before the earliest waiting segment. */
  const skipHole = (d: Direction<M>, out: TcpChunk<M>[]) => {
    let earliest = d.pending[0]!;
    for (const p of d.pending) if (diff(p.seq, earliest.seq) < 0) earliest = p;
    d.next = earliest.seq;
    d.gap = true;
    drain(d, out);
  };

  /** Forgets a direction, remembering where it ended. */
  const release = (d: Direction<M>) => {
    const key = d.key;
    dirs.delete(key);
    forget(d);
    if (d.next === null) return;
    closed.delete(key);
    if (closed.size >= maxClosed) oldestClosed.evict();
    closed.set(key, d.next);
  };

  /** A RST ends the connection both ways (RFC 9293 §3.10.7.4): deliver what waits, then forget. */
  const reset = (packet: DecodedPacket, key: string, out: TcpChunk<M>[]) => {
    for (const k of [key, `${packet.dst}|${packet.dstPort}|${packet.src}|${packet.srcPort}`]) {
      const d = dirs.get(k);
      if (!d) continue;
      while (d.pending.length > 0) skipHole(d, out);
      release(d);
    }
  };

  return {
    push(packet, meta) {
      const out: TcpChunk<M>[] = [];
      if (packet.proto !== 'tcp' || !packet.tcp) return out;
      const { seq, flags } = packet.tcp;
      // A RST's payload, if any, is diagnostic text, not stream data (RFC 9293 §3.5.3).
      if (flags & TCP_FLAGS.RST) {
        reset(packet, keyOf(packet), out);
        return out;
      }
      const hash = packet.flowHash;
      let d = hash === undefined ? undefined : byHash.get(hash);
      if (d && !sameFlow(d.flow, packet)) d = undefined;
      // Not found by its hash (a colliding one, or none): by its key, or a new direction.
      const missed = d ? '' : keyOf(packet);
      if (!d) {
        d = dirs.get(missed);
        if (d && hash !== undefined && d.hash === undefined && !byHash.has(hash)) {
          d.hash = hash;
          byHash.set(hash, d);
        }
      }
      if (!d) {
        const key = missed;
        const syn = flags & TCP_FLAGS.SYN;
        const end = closed.get(key);
        // Nothing to follow: an ACK or FIN of a direction not tracked, or a late retransmission.
        if (!syn && packet.payload.length === 0) return out;
        if (!syn && end !== undefined && diff((seq + packet.payload.length) >>> 0, end) <= 0) return out;
        if (end !== undefined) closed.delete(key);
        if (dirs.size >= maxFlows) {
          const evicted = oldestFlow.evict();
          if (evicted) forget(evicted[1]);
        }
        const flow = { src: packet.src, srcPort: packet.srcPort, dst: packet.dst, dstPort: packet.dstPort };
        const indexed = hash !== undefined && !byHash.has(hash);
        // After a closed one, the ports' next bytes belong to another connection: a framer resets.
        d = {
          key,
          flow,
          hash: indexed ? hash : undefined,
          next: null,
          pending: [],
          pendingBytes: 0,
          gap: end !== undefined,
          fin: null,
        };
        dirs.set(key, d);
        if (indexed) byHash.set(hash, d);
      }
      if (flags & TCP_FLAGS.SYN) {
        const isn1 = (seq + 1) >>> 0;
        // A SYN with a new ISN on a known 4-tuple is a new connection reusing the ports.
        if (d.next !== null && d.next !== isn1) {
          d.pending = [];
          d.pendingBytes = 0;
          d.gap = true;
          d.fin = null;
        }
        d.next = isn1;
      }
      const dataSeq = flags & TCP_FLAGS.SYN ? (seq + 1) >>> 0 : seq;
      if (packet.payload.length > 0) {
        if (d.next === null) d.next = dataSeq;
        if (!accept(d, dataSeq, packet.payload, meta, out)) {
          d.pending.push({ seq: dataSeq, data: packet.payload, meta });
          d.pendingBytes += packet.payload.length;
          if (d.pendingBytes > maxPending) skipHole(d, out);
        } else drain(d, out);
      }
      if (flags & TCP_FLAGS.FIN) d.fin = (dataSeq + packet.payload.length) >>> 0;
      // Every byte before the FIN delivered: the direction is done (RFC 9293 §3.6).
      if (d.fin !== null && d.next !== null && diff(d.next, d.fin) >= 0) release(d);
      return out;
    },
    flush() {
      const out: TcpChunk<M>[] = [];
      for (const d of dirs.values()) while (d.pending.length > 0) skipHole(d, out);
      return out;
    },
    flows: () => dirs.size,
    indexed: () => byHash.size,
  };
}
