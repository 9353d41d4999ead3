/**
 * DNP3 (IEEE 1815) in a capture: TCP streams on the DNP3 ports (or any stream whose first bytes
 * are a valid DNP3 link header) and UDP datagrams, one `createDnp3Session` per connection, each
 * application fragment one event with its frame (and its request's frame). Link frames can
 * straddle TCP segments, so this follower keeps its own stream tracker with the default pending
 * size. Bounded: at most `maxConnections` sessions (the oldest is forgotten), a session is freed
 * when its connection ends (FIN or RST).
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  createDnp3Session,
  type Dnp3Session,
  type Dnp3SessionItem,
  dnp3ItemToEvent,
  looksLikeDnp3,
} from '../../../protocols/dnp3/index.ts';
import {
  createTcpStreamTracker,
  type DecodedPacket,
  FlowSessions,
  TCP_FLAGS,
  type TcpChunk,
  type TcpFlow,
} from '../../../protocols/pcap/index.ts';
import type { FrameMeta } from './frame-meta.ts';

export interface Dnp3CaptureOptions {
  ports: number[];
  /** Follow TCP streams on other ports that open with a DNP3 link header. */
  detect: boolean;
  maxConnections: number;
  extra: Record<string, unknown>;
}

export interface Dnp3Capture {
  /** True when this TCP segment belongs to DNP3 (a port, or a stream found by its first bytes). */
  wantsTcp(p: DecodedPacket): boolean;
  tcp(p: DecodedPacket, meta: FrameMeta, out: PendingEvent[]): void;
  udp(p: DecodedPacket, meta: FrameMeta, out: PendingEvent[]): void;
  flush(out: PendingEvent[]): void;
  /** In-order bytes of one direction (after reassembly, or read by an inline proxy). */
  chunk(c: TcpChunk<FrameMeta>, out: PendingEvent[]): void;
  /** The connection ended: its session (half-built fragments, open requests) goes. */
  close(flow: TcpFlow): void;
  /** Sessions held now (TCP connections and UDP endpoint pairs). */
  connections(): number;
  stats: { frames: number; fragments: number; malformed: number };
}

export function createDnp3Capture(options: Dnp3CaptureOptions): Dnp3Capture {
  const ports = new Set(options.ports);
  // Two directions a connection; out-of-order bytes held per direction stay below 64 KiB (four
  // largest fragments' worth of link frames), so the tracker holds at most 2 x maxConnections x 64 KiB.
  const tracker = createTcpStreamTracker<FrameMeta>({
    maxFlows: 2 * options.maxConnections,
    maxPendingBytes: 65_536,
  });
  /** Directions (`src|sport|dst|dport`) found to carry DNP3 off the ports, and those that do not. */
  const found = new Set<string>();
  const notFound = new Set<string>();
  const stats = { frames: 0, fragments: 0, malformed: 0 };

  /** The pair, outstation (the side on a DNP3 port) second; both or neither: ordered lexically. */
  const pairKey = (src: string, srcPort: number, dst: string, dstPort: number) => {
    const a = `${src}|${srcPort}`;
    const b = `${dst}|${dstPort}`;
    const srcIsOutstation = ports.has(srcPort) && !ports.has(dstPort);
    const dstIsOutstation = ports.has(dstPort) && !ports.has(srcPort);
    if (dstIsOutstation) return `${a}|${b}`;
    if (srcIsOutstation) return `${b}|${a}`;
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  };

  const sessions = new FlowSessions<Dnp3Session<FrameMeta>>({
    max: options.maxConnections,
    keyOf: (f) => pairKey(f.src, f.srcPort, f.dst, f.dstPort),
    create: () => createDnp3Session<FrameMeta>(),
  });

  const emit = (
    items: Dnp3SessionItem<FrameMeta>[],
    flow: { src: string; srcPort: number; dst: string; dstPort: number },
    transport: 'tcp' | 'udp',
    out: PendingEvent[],
  ) => {
    for (const item of items) {
      if (item.type === 'link') stats.frames++;
      else if (item.type === 'error') stats.malformed++;
      else stats.fragments++;
      const event = dnp3ItemToEvent(item, {
        received: item.meta.ts,
        transport,
        src: { ip: flow.src, port: flow.srcPort },
        dst: { ip: flow.dst, port: flow.dstPort },
        extra: options.extra,
      });
      if (event) out.push(event);
    }
  };

  const chunk = (c: TcpChunk<FrameMeta>, out: PendingEvent[]) => {
    const { flow } = c;
    emit(sessions.of(flow).push(c.key, c.data, c.meta, c.gap), flow, 'tcp', out);
  };

  return {
    stats,
    chunk,
    close: (flow) => void sessions.close(flow),
    connections: () => sessions.size,
    wantsTcp(p) {
      if (ports.has(p.dstPort) || ports.has(p.srcPort)) return true;
      if (!options.detect) return false;
      const key = `${p.src}|${p.srcPort}|${p.dst}|${p.dstPort}`;
      if (found.has(key)) return true;
      if (p.payload.length === 0 || notFound.has(key)) return false;
      if (found.size >= 65_536) found.clear();
      if (notFound.size >= 65_536) notFound.clear();
      if (!looksLikeDnp3(p.payload)) {
        notFound.add(key);
        return false;
      }
      found.add(key);
      found.add(`${p.dst}|${p.dstPort}|${p.src}|${p.srcPort}`);
      return true;
    },
    tcp(p, meta, out) {
      for (const c of tracker.push(p, meta)) chunk(c, out);
      const flags = p.tcp?.flags ?? 0;
      // The connection is over: its half-built fragments and open requests can never complete.
      if (flags & (TCP_FLAGS.FIN | TCP_FLAGS.RST)) sessions.close(p);
    },
    udp(p, meta, out) {
      const s = sessions.byKey(`udp|${pairKey(p.src, p.srcPort, p.dst, p.dstPort)}`, p);
      emit(s.datagram(p.payload, meta), p, 'udp', out);
    },
    flush(out) {
      for (const c of tracker.flush()) chunk(c, out);
    },
  };
}
