/**
 * EtherNet/IP + CIP in a capture: explicit messaging over TCP (one `createEnipSession` per
 * connection, pairing replies with requests), encapsulation datagrams over UDP (List Identity)
 * and implicit I/O on UDP 2222 (`cip.io`, one event per datagram, for the pipeline to summarise).
 * A peer sends one encapsulation message per segment, so as for Modbus a segment after a hole
 * starts a message (no pending bytes). Bounded: at most `maxConnections` sessions (the oldest is
 * forgotten), a session is freed when its connection ends (FIN or RST).
 */
import {
  CIP_IO_PORT,
  createEnipSession,
  decodeEncap,
  decodeIo,
  type EnipDirection,
  enipErrorToEvent,
  type EnipSession,
  enipToEvents,
} from '../../../protocols/enip/index.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  createTcpStreamTracker,
  type DecodedPacket,
  FlowSessions,
  TCP_FLAGS,
  type TcpChunk,
  type TcpFlow,
} from '../../../protocols/pcap/index.ts';
import type { FrameMeta } from './frame-meta.ts';

export interface EnipCaptureOptions {
  /** Server ports, TCP and UDP (44818 explicit messaging; 2222 implicit I/O). */
  ports: number[];
  maxConnections: number;
  extra: Record<string, unknown>;
}

export interface EnipCapture {
  wants(p: DecodedPacket): boolean;
  tcp(p: DecodedPacket, meta: FrameMeta, out: PendingEvent[]): void;
  udp(p: DecodedPacket, meta: FrameMeta, out: PendingEvent[]): void;
  flush(out: PendingEvent[]): void;
  /** In-order bytes of one TCP direction (after reassembly, or read by an inline proxy). */
  chunk(c: TcpChunk<FrameMeta>, out: PendingEvent[]): void;
  /** The connection ended: its open requests and Forward_Open connections go. */
  close(flow: TcpFlow): void;
  connections(): number;
  stats: { messages: number; malformed: number };
}

type Endpoint = { ip: string; port: number };

export function createEnipCapture(options: EnipCaptureOptions): EnipCapture {
  const ports = new Set(options.ports);
  const tracker = createTcpStreamTracker<FrameMeta>({
    maxPendingBytes: 0,
    maxFlows: 2 * options.maxConnections,
  });
  const sessions = new FlowSessions<EnipSession<FrameMeta>>({
    max: options.maxConnections,
    keyOf: (f) => sides(f).key,
    create: () => createEnipSession<FrameMeta>(),
  });
  const stats = { messages: 0, malformed: 0 };

  const sides = (f: { src: string; srcPort: number; dst: string; dstPort: number }) => {
    const direction: EnipDirection = ports.has(f.dstPort) ? 'request' : 'response';
    const a: Endpoint = { ip: f.src, port: f.srcPort };
    const b: Endpoint = { ip: f.dst, port: f.dstPort };
    return direction === 'request'
      ? { direction, client: a, server: b, key: `${a.ip}|${a.port}|${b.ip}|${b.port}` }
      : { direction, client: b, server: a, key: `${b.ip}|${b.port}|${a.ip}|${a.port}` };
  };

  const fields = (meta: FrameMeta, transport: 'tcp' | 'udp', requestFrame?: number) => {
    const f: Record<string, unknown> = Object.assign({}, options.extra);
    f.frame = meta.frame;
    f.transport = transport;
    if (requestFrame !== undefined) f.request_frame = requestFrame;
    return f;
  };

  const chunk = (c: TcpChunk<FrameMeta>, out: PendingEvent[]) => {
    const { direction, client, server } = sides(c.flow);
    const session = sessions.of(c.flow);
    const r = session.push(c.data, direction, c.meta, c.gap);
    for (const e of r.errors) {
      stats.malformed++;
      const ctx = { received: c.meta.ts, client, server, extra: fields(c.meta, 'tcp') };
      out.push(enipErrorToEvent(e, e.skipped, direction, ctx));
    }
    for (const d of r.decoded) {
      const ctx = {
        received: c.meta.ts,
        client,
        server,
        extra: fields(c.meta, 'tcp', d.request?.meta.frame),
        anomalies: d.anomalies,
      };
      if (d.result.ok) {
        stats.messages++;
        for (const e of enipToEvents(d.result.value, direction, ctx, d.request?.pdu)) out.push(e);
      } else {
        stats.malformed++;
        out.push(enipErrorToEvent(d.result.error, d.bytes, direction, ctx));
      }
    }
  };

  return {
    stats,
    chunk,
    close: (flow) => void sessions.close(flow),
    connections: () => sessions.size,
    wants: (p) => ports.has(p.dstPort) || ports.has(p.srcPort),
    tcp(p, meta, out) {
      for (const c of tracker.push(p, meta)) chunk(c, out);
      const flags = p.tcp?.flags ?? 0;
      // The connection is over: its open requests and Forward_Open connections go with it.
      if (flags & (TCP_FLAGS.FIN | TCP_FLAGS.RST)) sessions.close(p);
    },
    udp(p, meta, out) {
      const { direction, client, server } = sides(p);
      // Implicit I/O is told by its port (CIP Vol. 2 §3-3.3); the rest is encapsulation.
      const io = p.dstPort === CIP_IO_PORT || p.srcPort === CIP_IO_PORT;
      const result = io ? decodeIo(p.payload) : decodeEncap(p.payload);
      const ctx = { received: meta.ts, client, server, extra: fields(meta, 'udp') };
      if (result.ok) {
        stats.messages++;
        for (const e of enipToEvents(result.value, direction, ctx)) out.push(e);
      } else {
        stats.malformed++;
        out.push(enipErrorToEvent(result.error, p.payload, direction, ctx));
      }
    },
    flush(out) {
      for (const c of tracker.flush()) chunk(c, out);
    },
  };
}
