/**
 * The OT protocols of a capture in one place, so that decoder.ts only routes to it: DNP3
 * (ot-dnp3.ts), S7comm on ISO-on-TCP, EtherNet/IP-CIP (ot-enip.ts), BACnet/IP and BACnet/Ethernet,
 * and OPC UA binary. Each follows its own ports (an empty list turns it off); DNP3 and OPC UA also
 * follow streams on other ports that open like them. The codecs live in protocols/<proto>; this
 * file owns the TCP trackers, the per-connection state and its bounds.
 */
import { createBacnetEventStream } from '../../../protocols/bacnet/index.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { createOpcuaFlowDecoder } from '../../../protocols/opcua/index.ts';
import {
  createTcpStreamTracker,
  type DecodedPacket,
  LINKTYPE,
  TCP_FLAGS,
  type TcpChunk,
  type TcpFlow,
} from '../../../protocols/pcap/index.ts';
import { createS7commStreams } from '../../../protocols/s7comm/index.ts';
import type { FrameMeta } from './frame-meta.ts';
import { createDnp3Capture } from './ot-dnp3.ts';
import { createEnipCapture } from './ot-enip.ts';

export interface OtCaptureOptions {
  /** TCP and UDP ports of DNP3 outstations (default [20000]). */
  dnp3Ports?: number[];
  /** TCP ports of S7 controllers (default [102]). */
  s7commPorts?: number[];
  /** EtherNet/IP ports, TCP and UDP (default [44818, 2222]; 2222 carries implicit I/O). */
  enipPorts?: number[];
  /** UDP ports of BACnet/IP (default 47808–47823); [] also turns BACnet/Ethernet off. */
  bacnetPorts?: number[];
  /** TCP ports of OPC UA servers (default [4840]); [] turns OPC UA off, HEL detection included. */
  opcuaPorts?: number[];
  /** Connections followed at once per protocol (default 4,096; the oldest is forgotten). */
  maxOtConnections?: number;
  extraFields?: Record<string, unknown>;
}

export interface OtStats {
  dnp3: { frames: number; fragments: number; malformed: number };
  s7comm: { messages: number; malformed: number };
  enip: { messages: number; malformed: number };
  bacnet: { messages: number; malformed: number };
  opcua: { messages: number; malformed: number };
}

export interface OtCapture {
  /** Handles the packet when it is OT (returns true), leaving it to the other decoders if not. */
  packet(p: DecodedPacket, meta: FrameMeta, out: PendingEvent[]): boolean;
  /** A frame that is not IP: BACnet/Ethernet (802.2 LLC with the BACnet SAP) on Ethernet. */
  nonIp(linkType: number, data: Uint8Array, meta: FrameMeta, out: PendingEvent[]): boolean;
  flush(out: PendingEvent[]): void;
  /**
   * In-order bytes of one direction of a TCP connection of `proto`, handed to the same follower
   * packets reach after reassembly: an inline proxy (gateway/sources/ot-proxy) reads its sockets'
   * bytes already in order and gets the events a capture of the same traffic gives.
   */
  stream(proto: OtTcpProtocol, chunk: TcpChunk<FrameMeta>, out: PendingEvent[]): void;
  /** The connection ended: the follower forgets it (its session, open requests, half-built messages). */
  closeStream(proto: OtTcpProtocol, flow: TcpFlow): void;
  /** Connections held now, per protocol (each is capped). */
  connections(): { dnp3: number; s7comm: number; enip: number; opcua: number };
  stats: OtStats;
}

export const BACNET_PORTS_DEFAULT = Array.from({ length: 16 }, (_, i) => 47808 + i);
const MAX_CONNECTIONS = 4096;
const MAX_DECIDED = 65_536;

type TcpProto = 's7' | 'enip' | 'dnp3' | 'opcua';
/** The TCP OT protocols a stream can be handed to (`stream`). */
export type OtTcpProtocol = 'dnp3' | 's7comm' | 'enip' | 'opcua';

const mac = (b: Uint8Array, at: number) =>
  Array.from(b.subarray(at, at + 6), (x) => x.toString(16).padStart(2, '0')).join(':');

export function createOtCapture(options: OtCaptureOptions = {}): OtCapture {
  const extra = options.extraFields ?? {};
  const maxConnections = options.maxOtConnections ?? MAX_CONNECTIONS;
  const dnp3Ports = options.dnp3Ports ?? [20000];
  const dnp3 = createDnp3Capture({ ports: dnp3Ports, detect: dnp3Ports.length > 0, maxConnections, extra });
  const s7 = createS7commStreams({ ports: options.s7commPorts ?? [102], maxConnections, extraFields: extra });
  // ISO-on-TCP peers send one TPKT per segment (as Modbus): decode after a hole, never wait.
  const tcpS7 = createTcpStreamTracker<FrameMeta>({ maxPendingBytes: 0, maxFlows: 2 * maxConnections });
  const enip = createEnipCapture({ ports: options.enipPorts ?? [44818, 2222], maxConnections, extra });
  const bacnetPorts = new Set(options.bacnetPorts ?? BACNET_PORTS_DEFAULT);
  const bacnet = createBacnetEventStream();
  const bacnetStats = { messages: 0, malformed: 0 };
  const opcuaPorts = options.opcuaPorts ?? [4840];
  const opcuaOn = opcuaPorts.length > 0;
  const opcua = createOpcuaFlowDecoder({
    ports: opcuaPorts,
    detect: opcuaOn,
    extraFields: extra,
    maxConnections,
  });
  // OPC UA bounds its half-built messages itself (16 MiB in all); out-of-order bytes per direction
  // stay below 64 KiB.
  const tcpOpcua = createTcpStreamTracker<FrameMeta>({
    maxPendingBytes: 65_536,
    maxFlows: 2 * maxConnections,
  });
  const s7Ports = new Set(options.s7commPorts ?? [102]);
  const enipPorts = new Set(options.enipPorts ?? [44818, 2222]);
  const dnp3Set = new Set(dnp3Ports);
  const opcuaSet = new Set(opcuaPorts);
  const owner = (port: number): TcpProto | undefined =>
    s7Ports.has(port)
      ? 's7'
      : enipPorts.has(port)
        ? 'enip'
        : dnp3Set.has(port)
          ? 'dnp3'
          : opcuaSet.has(port)
            ? 'opcua'
            : undefined;
  /**
   * The protocol of each TCP connection, decided on its first packet by the port it was sent to
   * (then the port it came from): a client's ephemeral port can be another protocol's server port
   * (20000 is DNP3's), and the first packet is usually the SYN to the server. Bounded like the
   * MQTT detection sets: cleared when full, connections are then decided again.
   */
  const decided = new Map<string, TcpProto>();

  const bacnetOut = (events: PendingEvent[], out: PendingEvent[]) => {
    for (const e of events) {
      if (e.action === 'bacnet.malformed') bacnetStats.malformed++;
      else bacnetStats.messages++;
      out.push(e);
    }
  };

  const s7Chunk = (c: TcpChunk<FrameMeta>, out: PendingEvent[]) => {
    for (const e of s7.push(c.flow, c.data, c.gap, { ts: c.meta.ts, frame: c.meta.frame })) out.push(e);
  };
  const opcuaChunk = (c: TcpChunk<FrameMeta>, out: PendingEvent[]) => {
    for (const e of opcua.chunk(c)) out.push(e);
  };

  return {
    stream(proto, c, out) {
      if (proto === 'dnp3') dnp3.chunk(c, out);
      else if (proto === 's7comm') s7Chunk(c, out);
      else if (proto === 'enip') enip.chunk(c, out);
      else opcuaChunk(c, out);
    },
    closeStream(proto, flow) {
      if (proto === 'dnp3') dnp3.close(flow);
      else if (proto === 's7comm') s7.close(flow);
      else if (proto === 'enip') enip.close(flow);
      else opcua.close(flow);
    },
    stats: {
      dnp3: dnp3.stats,
      s7comm: s7.stats,
      enip: enip.stats,
      bacnet: bacnetStats,
      get opcua() {
        return { messages: opcua.stats.messages, malformed: opcua.stats.malformed };
      },
    },
    connections: () => ({
      dnp3: dnp3.connections(),
      s7comm: s7.connections(),
      enip: enip.connections(),
      opcua: opcua.stats.connections(),
    }),
    packet(p, meta, out) {
      if (p.proto === 'udp') {
        if (dnp3Ports.includes(p.dstPort) || dnp3Ports.includes(p.srcPort)) dnp3.udp(p, meta, out);
        else if (enip.wants(p)) enip.udp(p, meta, out);
        else if (bacnetPorts.has(p.dstPort) || bacnetPorts.has(p.srcPort))
          bacnetOut(bacnet.datagram(p, meta.ts, meta.ts, { ...extra, frame: meta.frame }), out);
        else return false;
        return true;
      }
      const toOwner = owner(p.dstPort);
      const fromOwner = owner(p.srcPort);
      // One end on an OT port (or both on the same protocol's): the decision is the port's, in
      // either direction, and needs no entry (building and hashing the key was a tenth of a
      // frame's cost). Both ends on different protocols' ports, or neither: decided once.
      const byPort =
        toOwner === undefined
          ? fromOwner
          : fromOwner === undefined || fromOwner === toOwner
            ? toOwner
            : undefined;
      let key = '';
      let proto = byPort;
      if (!proto) {
        const a = `${p.src}|${p.srcPort}`;
        const b = `${p.dst}|${p.dstPort}`;
        key = a < b ? `${a}|${b}` : `${b}|${a}`;
        proto = decided.get(key);
      }
      if (!proto) {
        proto = owner(p.dstPort) ?? owner(p.srcPort);
        // Off the ports: DNP3 and OPC UA streams are found by their first bytes.
        if (!proto && dnp3.wantsTcp(p)) proto = 'dnp3';
        else if (!proto && opcuaOn && opcua.wants(p)) proto = 'opcua';
        if (!proto) return false;
        if (decided.size >= MAX_DECIDED) decided.clear();
        decided.set(key, proto);
      }
      if (proto === 's7') for (const c of tcpS7.push(p, meta)) s7Chunk(c, out);
      else if (proto === 'enip') enip.tcp(p, meta, out);
      else if (proto === 'dnp3') dnp3.tcp(p, meta, out);
      else if (opcua.wants(p)) for (const c of tcpOpcua.push(p, meta)) opcuaChunk(c, out);
      // The connection is over (either side's FIN, or a RST): what it held goes, after the bytes
      // this segment carried. DNP3 and EtherNet/IP free their sessions in tcp() themselves.
      if ((p.tcp?.flags ?? 0) & (TCP_FLAGS.FIN | TCP_FLAGS.RST)) {
        if (proto === 's7') s7.close(p);
        else if (proto === 'opcua') opcua.close(p);
        if (key) decided.delete(key);
      }
      return true;
    },
    nonIp(linkType, data, meta, out) {
      // 802.3 length (≤ 1500) then the LLC's DSAP 0x82 (BACnet, clause H.1).
      if (linkType !== LINKTYPE.ETHERNET || bacnetPorts.size === 0 || data.length < 17) return false;
      const len = (data[12]! << 8) | data[13]!;
      if (len > 1500 || data[14] !== 0x82) return false;
      const llc = data.subarray(14, 14 + len);
      bacnetOut(
        bacnet.llc(llc, mac(data, 6), mac(data, 0), meta.ts, meta.ts, { ...extra, frame: meta.frame }),
        out,
      );
      return true;
    },
    flush(out) {
      for (const c of tcpS7.flush()) s7Chunk(c, out);
      enip.flush(out);
      dnp3.flush(out);
      for (const c of tcpOpcua.flush()) opcuaChunk(c, out);
    },
  };
}
