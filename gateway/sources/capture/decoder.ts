/**
 * Captured packets → events, the one path shared by `siem-gateway replay` (a pcap/pcapng file) and
 * the live `capture` source (dumpcap on a mirror port): decode the frame to UDP/TCP, reassemble
 * TCP incrementally, cut Modbus/TCP streams into ADUs (MBAP) and pair responses with requests per
 * connection, follow MQTT connections (on the broker ports, or wherever a stream opens with an
 * MQTT CONNECT; capture/mqtt.ts), pair CoAP requests and responses (capture/coap.ts), and read
 * syslog over UDP and TCP, and the OT protocols (DNP3, S7comm, EtherNet/IP-CIP, BACnet, OPC UA:
 * capture/ot.ts). Every event carries the frame number that completed it
 * (`fields.frame`), and responses the frame of their request. Pure apart from its own state: time
 * comes from the capture, never from the clock.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  createMbapDeframer,
  createModbusSession,
  type MbapDeframer,
  type ModbusSession,
  modbusErrorToEvent,
  modbusToEvent,
} from '../../../protocols/modbus/index.ts';
import { looksLikeMqttConnect } from '../../../protocols/mqtt/index.ts';
import {
  createTcpStreamTracker,
  decodePacket,
  FlowSessions,
  plainBytes,
  TCP_FLAGS,
  type TcpChunk,
} from '../../../protocols/pcap/index.ts';
import {
  createSyslogDeframer,
  parseSyslog,
  type SyslogDeframer,
  syslogErrorToEvent,
  syslogToEvent,
} from '../../../protocols/syslog/index.ts';
import { createCoapCaptureDecoder } from './coap.ts';
import type { FrameMeta } from './frame-meta.ts';
import { createMqttCaptureDecoder, type MqttRates } from './mqtt.ts';
import { createOtCapture, type OtCaptureOptions, type OtStats } from './ot.ts';

export type { FrameMeta } from './frame-meta.ts';

export interface CaptureDecoderOptions extends OtCaptureOptions {
  /** TCP ports of Modbus servers (default 502). */
  modbusPorts?: number[];
  /** UDP ports of syslog (default 514). */
  syslogUdpPorts?: number[];
  /** TCP ports of syslog (default 601, 6514 is TLS and unreadable). */
  syslogTcpPorts?: number[];
  /** TCP ports of MQTT brokers (default 1883); 8883 is TLS and unreadable. */
  mqttPorts?: number[];
  /** Also follow TCP streams on other ports that open with an MQTT CONNECT (default true). */
  detectMqtt?: boolean;
  /** Largest MQTT packet buffered whole (default 1 MiB); larger ones are reported and skipped. */
  maxMqttPacketBytes?: number;
  /** Thresholds of `mqtt.rate_exceeded` (defaults: the embedded broker's). */
  mqttRates?: Partial<MqttRates>;
  /** UDP ports of CoAP (default 5683). */
  coapPorts?: number[];
  /** A response this many times larger than its request is an amplification risk (default 3). */
  coapAmplificationFactor?: number;
  /** Largest syslog message (default 65,536). */
  maxSyslogBytes?: number;
  /** Added to every event's fields (e.g. the file name in a multi-file replay). */
  extraFields?: Record<string, unknown>;
}

export interface CaptureDecoderStats {
  frames: number;
  undecodable: Record<string, number>;
  modbusAdus: number;
  mqttPackets: number;
  coapMessages: number;
  /** MQTT packets and CoAP datagrams our codecs refused (each also a `*.malformed*` event). */
  malformed: { mqtt: number; coap: number };
  /** DNP3, S7comm, EtherNet/IP, BACnet and OPC UA messages and refusals. */
  ot: OtStats;
}

interface ModbusConn {
  session: ModbusSession<FrameMeta>;
  deframers: Map<string, MbapDeframer>;
}

export interface CaptureDecoder {
  packet(linkType: number, data: Uint8Array, meta: FrameMeta): PendingEvent[];
  /** End of input: what still waits behind holes in TCP streams. */
  flush(): PendingEvent[];
  /** Connections whose state is held now: Modbus and the OT protocols (each capped, freed at FIN/RST). */
  connections(): { modbus: number; dnp3: number; s7comm: number; enip: number; opcua: number };
  stats: CaptureDecoderStats;
}

export function createCaptureDecoder(options: CaptureDecoderOptions = {}): CaptureDecoder {
  const modbusPorts = new Set(options.modbusPorts ?? [502]);
  const syslogUdp = new Set(options.syslogUdpPorts ?? [514]);
  const syslogTcp = new Set(options.syslogTcpPorts ?? [601]);
  const maxBytes = options.maxSyslogBytes ?? 65_536;
  const extra = options.extraFields ?? {};
  const hasExtra = Object.keys(extra).length > 0;
  // Modbus peers send one ADU per segment, so a segment after a hole starts an ADU: decode it at
  // once (as Wireshark does) rather than wait for bytes the capture may never hold.
  const tcpModbus = createTcpStreamTracker<FrameMeta>({ maxPendingBytes: 0 });
  const tcpSyslog = createTcpStreamTracker<FrameMeta>();
  /** Per connection (`master|mport|server|sport`): capped like the OT followers, freed at FIN/RST. */
  const modbus = new FlowSessions<ModbusConn>({
    max: options.maxOtConnections ?? 4096,
    keyOf: (f) =>
      modbusPorts.has(f.dstPort)
        ? `${f.src}|${f.srcPort}|${f.dst}|${f.dstPort}`
        : `${f.dst}|${f.dstPort}|${f.src}|${f.srcPort}`,
    create: () => ({ session: createModbusSession<FrameMeta>(), deframers: new Map() }),
  });
  const syslogStreams = new Map<string, { deframer: SyslogDeframer; last: FrameMeta }>();
  const mqttPorts = new Set(options.mqttPorts ?? [1883]);
  const detectMqtt = options.detectMqtt ?? true;
  const coapPorts = new Set(options.coapPorts ?? [5683]);
  const tcpMqtt = createTcpStreamTracker<FrameMeta>();
  const mqtt = createMqttCaptureDecoder({
    ports: mqttPorts,
    maxPacketBytes: options.maxMqttPacketBytes ?? 1_048_576,
    rates: { windowSecs: 60, maxConnections: 120, maxConnects: 60, maxAuthFailures: 5, ...options.mqttRates },
    extra,
  });
  const coap = createCoapCaptureDecoder({
    amplificationFactor: options.coapAmplificationFactor ?? 3,
    verifiedSecs: 3600,
    extra,
  });
  /** Directions (`src|sport|dst|dport`) found to carry MQTT off the broker ports, and those that do not. */
  const mqttFound = new Set<string>();
  const notMqtt = new Set<string>();
  const ot = createOtCapture(options);
  const stats: CaptureDecoderStats = {
    frames: 0,
    ot: ot.stats,
    undecodable: {},
    modbusAdus: 0,
    get mqttPackets() {
      return mqtt.stats.packets;
    },
    get coapMessages() {
      return coap.stats.messages;
    },
    malformed: {
      get mqtt() {
        return mqtt.stats.malformed;
      },
      get coap() {
        return coap.stats.malformed;
      },
    },
  };

  const modbusChunk = (chunk: TcpChunk<FrameMeta>, out: PendingEvent[]) => {
    const { flow, meta } = chunk;
    const direction = modbusPorts.has(flow.dstPort) ? 'request' : 'response';
    const [master, server] =
      direction === 'request'
        ? [
            { ip: flow.src, port: flow.srcPort },
            { ip: flow.dst, port: flow.dstPort },
          ]
        : [
            { ip: flow.dst, port: flow.dstPort },
            { ip: flow.src, port: flow.srcPort },
          ];
    const conn = modbus.of(flow);
    let deframer = conn.deframers.get(direction);
    if (!deframer) {
      deframer = createMbapDeframer();
      conn.deframers.set(direction, deframer);
    }
    if (chunk.gap) deframer.reset();
    const { adus, errors } = deframer.push(chunk.data);
    // Contexts are written out, not spread from a common one: a spread per ADU was the largest
    // cost of this function (node --cpu-prof on modbusBig.pcap).
    for (const error of errors) {
      out.push(
        modbusErrorToEvent(error, error.skipped, direction, {
          received: meta.ts,
          master,
          server,
          transport: 'tcp',
          extra: { ...extra, frame: meta.frame },
        }),
      );
    }
    for (const adu of adus) {
      stats.modbusAdus++;
      const decoded = conn.session.decode(adu, direction, meta);
      const fields: Record<string, unknown> = hasExtra
        ? Object.assign({}, extra, { frame: meta.frame })
        : { frame: meta.frame };
      if (decoded.request) fields.request_frame = decoded.request.meta.frame;
      if (decoded.result.ok) {
        out.push(
          modbusToEvent(adu.header, decoded.result.pdu, {
            received: meta.ts,
            master,
            server,
            transport: 'tcp',
            extra: fields,
            anomalies: decoded.anomalies,
          }),
        );
      } else {
        const ctx = { received: meta.ts, master, server, transport: 'tcp' as const, extra: fields };
        out.push(modbusErrorToEvent(decoded.result.error, adu.pdu, direction, ctx, adu.header));
      }
    }
  };

  const syslogFrame = (
    bytes: Uint8Array,
    meta: FrameMeta,
    peer: { ip: string; port: number },
    transport: 'udp' | 'tcp',
  ) => {
    const eventCtx = { received: meta.ts, peer, transport };
    const parsed = parseSyslog(bytes, { now: meta.ts, maxBytes });
    const event = parsed.ok
      ? syslogToEvent(parsed.message, eventCtx)
      : syslogErrorToEvent(parsed.error, bytes, eventCtx);
    event.fields = Object.assign({}, event.fields, extra, { frame: meta.frame });
    return event;
  };

  const syslogChunk = (chunk: TcpChunk<FrameMeta>, out: PendingEvent[]) => {
    let s = syslogStreams.get(chunk.key);
    if (!s || chunk.gap) {
      s = { deframer: createSyslogDeframer({ maxFrameBytes: maxBytes }), last: chunk.meta };
      syslogStreams.set(chunk.key, s);
    }
    s.last = chunk.meta;
    const peer = { ip: chunk.flow.src, port: chunk.flow.srcPort };
    for (const frame of s.deframer.push(chunk.data).frames)
      out.push(syslogFrame(frame, chunk.meta, peer, 'tcp'));
  };

  const route = (chunks: TcpChunk<FrameMeta>[], out: PendingEvent[]) => {
    for (const chunk of chunks) {
      const { srcPort, dstPort } = chunk.flow;
      if (modbusPorts.has(dstPort) || modbusPorts.has(srcPort)) modbusChunk(chunk, out);
      else if (syslogTcp.has(dstPort)) syslogChunk(chunk, out);
    }
  };

  /** On a broker port, or a stream that opened with an MQTT CONNECT ([MQTT-3.1.0-1]). */
  const isMqtt = (p: { src: string; srcPort: number; dst: string; dstPort: number; payload: Uint8Array }) => {
    if (mqttPorts.has(p.dstPort) || mqttPorts.has(p.srcPort)) return true;
    if (!detectMqtt) return false;
    const key = `${p.src}|${p.srcPort}|${p.dst}|${p.dstPort}`;
    if (mqttFound.has(key)) return true;
    if (p.payload.length === 0 || notMqtt.has(key)) return false;
    if (mqttFound.size >= 65_536) mqttFound.clear();
    if (notMqtt.size >= 65_536) notMqtt.clear();
    if (!looksLikeMqttConnect(p.payload)) {
      notMqtt.add(key);
      return false;
    }
    mqttFound.add(key);
    mqttFound.add(`${p.dst}|${p.dstPort}|${p.src}|${p.srcPort}`);
    return true;
  };

  return {
    stats,
    connections: () => ({ modbus: modbus.size, ...ot.connections() }),
    packet(linkType, frameBytes, meta) {
      stats.frames++;
      const out: PendingEvent[] = [];
      // The codecs slice the frame many times: a plain Uint8Array (the capture readers' packets are).
      const data = plainBytes(frameBytes);
      const decoded = decodePacket(linkType, data);
      if (!decoded.ok) {
        if (decoded.error.code === 'not_ip' && ot.nonIp(linkType, data, meta, out)) return out;
        stats.undecodable[decoded.error.code] = (stats.undecodable[decoded.error.code] ?? 0) + 1;
        return out;
      }
      const p = decoded.packet;
      if (p.proto === 'udp') {
        if (syslogUdp.has(p.dstPort))
          out.push(syslogFrame(p.payload, meta, { ip: p.src, port: p.srcPort }, 'udp'));
        else if (coapPorts.has(p.dstPort) || coapPorts.has(p.srcPort)) coap.datagram(p, meta, out);
        else ot.packet(p, meta, out);
        return out;
      }
      if (modbusPorts.has(p.dstPort) || modbusPorts.has(p.srcPort)) {
        route(tcpModbus.push(p, meta), out);
        // The connection is over: its open transactions and half-read ADUs can never complete.
        if ((p.tcp?.flags ?? 0) & (TCP_FLAGS.FIN | TCP_FLAGS.RST)) modbus.close(p);
      } else if (syslogTcp.has(p.dstPort)) route(tcpSyslog.push(p, meta), out);
      // A broker port wins: an MQTT client's ephemeral port may be an OT server port (20000).
      else if (!mqttPorts.has(p.dstPort) && !mqttPorts.has(p.srcPort) && ot.packet(p, meta, out)) return out;
      else if (isMqtt(p)) {
        const flags = p.tcp?.flags ?? 0;
        if (flags & TCP_FLAGS.SYN && !(flags & TCP_FLAGS.ACK)) mqtt.syn(p, meta, out);
        for (const chunk of tcpMqtt.push(p, meta)) mqtt.chunk(chunk, out);
        if (flags & (TCP_FLAGS.FIN | TCP_FLAGS.RST)) mqtt.close(p, (flags & TCP_FLAGS.RST) !== 0, meta, out);
        mqtt.sweep(meta.ts, out);
      }
      return out;
    },
    flush() {
      const out: PendingEvent[] = [];
      for (const chunk of tcpMqtt.flush()) mqtt.chunk(chunk, out);
      mqtt.flush(out);
      coap.flush(out);
      ot.flush(out);
      route(tcpModbus.flush(), out);
      route(tcpSyslog.flush(), out);
      for (const [key, s] of syslogStreams) {
        const [ip = '', port = '0'] = key.split('|');
        for (const frame of s.deframer.end().frames)
          out.push(syslogFrame(frame, s.last, { ip, port: Number(port) }, 'tcp'));
      }
      return out;
    },
  };
}
