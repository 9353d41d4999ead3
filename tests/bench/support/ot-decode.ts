/**
 * The capture path of each OT codec, wired the way a capture source or `replay` would run it:
 * the file's bytes through the pcap/pcapng reader, frame decoding, incremental TCP reassembly
 * (or the UDP datagram), the protocol's session (framing, decoding, pairing) and its mapping to
 * `Event`. One pass decodes the whole capture and hands every event to `emit`; it returns the
 * protocol frames decoded (DNP3 link frames, TPKT frames, encapsulation messages, BACnet/IP
 * datagrams, OPC UA messages), the unit of the decode benchmark (tests/bench/ot-decode.bench.ts).
 */
import {
  CIP_IO_PORT,
  createEnipSession,
  decodeEnipDatagram,
  ENIP_PORT,
  type EnipDirection,
  enipErrorToEvent,
  type EnipSession,
  enipToEvents,
} from '../../../protocols/enip/index.ts';
import { createBacnetEventStream, isBacnetPort } from '../../../protocols/bacnet/index.ts';
import { createDnp3Session, type Dnp3Session, dnp3ItemToEvent } from '../../../protocols/dnp3/index.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { createOpcuaFlowDecoder } from '../../../protocols/opcua/index.ts';
import {
  createTcpStreamTracker,
  type DecodedPacket,
  decodePacket,
  iterateCapture,
} from '../../../protocols/pcap/index.ts';
import { createS7commStreams } from '../../../protocols/s7comm/index.ts';

export interface FrameMeta {
  frame: number;
  ts: Date;
}

export interface OtDecoder {
  /** Protocol name as the report shows it. */
  protocol: string;
  /** The trace, relative to ../shared/data: the protocol's largest there. */
  trace: string[];
  /** What one counted frame is. */
  unit: string;
  /** Decodes a whole capture; returns the protocol frames decoded. */
  pass(bytes: Uint8Array, emit: (event: PendingEvent) => void): number;
}

/** Every packet of the capture that decodes to UDP or TCP, with its 1-based frame number. */
function* packets(bytes: Uint8Array): Generator<{ p: DecodedPacket; meta: FrameMeta }> {
  let frame = 0;
  for (const item of iterateCapture(bytes)) {
    if (item.type !== 'packet') continue;
    frame++;
    const d = decodePacket(item.packet.linkType, item.packet.data);
    if (d.ok) yield { p: d.packet, meta: { frame, ts: item.packet.ts } };
  }
}

const DNP3_PORT = 20000;

function dnp3Pass(bytes: Uint8Array, emit: (e: PendingEvent) => void): number {
  const tcp = createTcpStreamTracker<FrameMeta>();
  const sessions = new Map<string, Dnp3Session<FrameMeta>>();
  let frames = 0;
  const feed = (
    items: ReturnType<Dnp3Session<FrameMeta>['push']>,
    f: { src: string; srcPort: number; dst: string; dstPort: number },
    transport: 'tcp' | 'udp',
  ) => {
    for (const item of items) {
      if (item.type === 'link') {
        frames++;
        continue;
      }
      const e = dnp3ItemToEvent(item, {
        received: item.meta.ts,
        transport,
        src: { ip: f.src, port: f.srcPort },
        dst: { ip: f.dst, port: f.dstPort },
      });
      if (e) emit(e);
    }
  };
  const sessionOf = (conn: string) => {
    let s = sessions.get(conn);
    if (!s) sessions.set(conn, (s = createDnp3Session<FrameMeta>()));
    return s;
  };
  for (const { p, meta } of packets(bytes)) {
    if (p.srcPort !== DNP3_PORT && p.dstPort !== DNP3_PORT) continue;
    // One session per connection, the outstation's end last, so both directions share it.
    const a = `${p.src}|${p.srcPort}`;
    const b = `${p.dst}|${p.dstPort}`;
    const outstationLast = p.dstPort === DNP3_PORT && (p.srcPort !== DNP3_PORT || a < b);
    const conn = outstationLast ? `${a}|${b}` : `${b}|${a}`;
    if (p.proto === 'udp') feed(sessionOf(conn).datagram(p.payload, meta), p, 'udp');
    else
      for (const c of tcp.push(p, meta))
        feed(sessionOf(conn).push(c.key, c.data, c.meta, c.gap), c.flow, 'tcp');
  }
  return frames;
}

function s7commPass(bytes: Uint8Array, emit: (e: PendingEvent) => void): number {
  // S7 peers send whole TPKTs per segment: decode after a hole at once, as the tests do.
  const tcp = createTcpStreamTracker<FrameMeta>({ maxPendingBytes: 0 });
  const s7 = createS7commStreams();
  for (const { p, meta } of packets(bytes)) {
    if (p.proto !== 'tcp' || !s7.matches(p)) continue;
    for (const c of tcp.push(p, meta)) for (const e of s7.push(c.flow, c.data, c.gap, c.meta)) emit(e);
  }
  return s7.stats.messages;
}

function enipDatagram(p: DecodedPacket, meta: FrameMeta, emit: (e: PendingEvent) => void): void {
  const { direction, result } = decodeEnipDatagram(p.payload, p);
  const request = direction === 'request';
  const ctx = {
    received: meta.ts,
    client: { ip: request ? p.src : p.dst, port: request ? p.srcPort : p.dstPort },
    server: { ip: request ? p.dst : p.src, port: request ? p.dstPort : p.srcPort },
    extra: { frame: meta.frame, transport: 'udp' },
  };
  if (result.ok) for (const e of enipToEvents(result.value, direction, ctx)) emit(e);
  else emit(enipErrorToEvent(result.error, p.payload, direction, ctx));
}

function enipPass(bytes: Uint8Array, emit: (e: PendingEvent) => void): number {
  const tcp = createTcpStreamTracker<FrameMeta>({ maxPendingBytes: 0 });
  const sessions = new Map<string, EnipSession<FrameMeta>>();
  let frames = 0;
  for (const { p, meta } of packets(bytes)) {
    if (p.proto === 'udp') {
      const ports = [p.srcPort, p.dstPort];
      if (!ports.includes(CIP_IO_PORT) && !ports.includes(ENIP_PORT)) continue;
      frames++;
      enipDatagram(p, meta, emit);
      continue;
    }
    if (p.dstPort !== ENIP_PORT && p.srcPort !== ENIP_PORT) continue;
    for (const c of tcp.push(p, meta)) {
      const f = c.flow;
      const direction: EnipDirection = f.dstPort === ENIP_PORT ? 'request' : 'response';
      const request = direction === 'request';
      const client = { ip: request ? f.src : f.dst, port: request ? f.srcPort : f.dstPort };
      const server = { ip: request ? f.dst : f.src, port: request ? f.dstPort : f.srcPort };
      const key = `${client.ip}|${client.port}|${server.ip}|${server.port}`;
      let session = sessions.get(key);
      if (!session) sessions.set(key, (session = createEnipSession<FrameMeta>()));
      const out = session.push(c.data, direction, c.meta, c.gap);
      for (const e of out.errors)
        emit(
          enipErrorToEvent(e, e.skipped, direction, {
            received: c.meta.ts,
            client,
            server,
            extra: { frame: c.meta.frame, transport: 'tcp' },
          }),
        );
      for (const d of out.decoded) {
        frames++;
        const extra: Record<string, unknown> = { frame: c.meta.frame, transport: 'tcp' };
        if (d.request) extra.request_frame = d.request.meta.frame;
        const ctx = { received: c.meta.ts, client, server, extra, anomalies: d.anomalies };
        if (d.result.ok)
          for (const e of enipToEvents(d.result.value, direction, ctx, d.request?.pdu)) emit(e);
        else emit(enipErrorToEvent(d.result.error, d.bytes, direction, ctx));
      }
    }
  }
  return frames;
}

function bacnetPass(bytes: Uint8Array, emit: (e: PendingEvent) => void): number {
  const stream = createBacnetEventStream();
  let frames = 0;
  for (const { p, meta } of packets(bytes)) {
    if (p.proto !== 'udp' || !(isBacnetPort(p.srcPort) || isBacnetPort(p.dstPort))) continue;
    frames++;
    for (const e of stream.datagram(p, meta.ts, meta.ts, { frame: meta.frame })) emit(e);
  }
  return frames;
}

function opcuaPass(bytes: Uint8Array, emit: (e: PendingEvent) => void): number {
  const tcp = createTcpStreamTracker<FrameMeta>();
  const decoder = createOpcuaFlowDecoder();
  for (const { p, meta } of packets(bytes)) {
    if (p.proto !== 'tcp' || !decoder.wants(p)) continue;
    for (const c of tcp.push(p, meta)) for (const e of decoder.chunk(c)) emit(e);
  }
  for (const c of tcp.flush()) for (const e of decoder.chunk(c)) emit(e);
  return decoder.stats.messages;
}

/** The five codecs, each on its largest trace in ../shared/data (by protocol frames decoded). */
export const OT_DECODERS: readonly OtDecoder[] = [
  { protocol: 'DNP3', trace: ['dnp3', 'icsnpp', 'dnp3_example.pcap'], unit: 'link frames', pass: dnp3Pass },
  {
    protocol: 'S7comm',
    trace: ['s7comm', 'icsnpp', 's7comm_plus.pcap'],
    unit: 'TPKT frames',
    pass: s7commPass,
  },
  {
    protocol: 'EtherNet/IP',
    trace: ['enip', 'icsnpp', 'enip_cip_example.pcap'],
    unit: 'encapsulation messages',
    pass: enipPass,
  },
  {
    protocol: 'BACnet',
    trace: ['bacnet', 'icsnpp', 'bacnet_services.pcap'],
    unit: 'BACnet/IP datagrams',
    pass: bacnetPass,
  },
  {
    protocol: 'OPC UA',
    // The largest OPC UA trace by messages (240); open62541_browse_next.pcap is larger in bytes,
    // but 648 of its 752 packets are other traffic around 40 messages.
    trace: ['opcua', 'icsnpp', 'opcua_with-gap_with-handshake.pcap'],
    unit: 'OPC UA messages',
    pass: opcuaPass,
  },
];
