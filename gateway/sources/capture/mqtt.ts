/**
 * MQTT in captured traffic (a replayed file or a mirror port): each connection's two reassembled
 * TCP directions are cut into control packets (fixed header, MQTT 3.1.1 §2.2), decoded by the pure
 * codec at the level the CONNECT negotiated, and followed as a conversation, so a capture gives the
 * events of the embedded broker (gateway/sources/mqtt-broker): CONNECT + CONNACK → `mqtt.connect`,
 * `mqtt.auth_failure` or `mqtt.connect_refused`; SUBSCRIBE + SUBACK → `mqtt.subscribe` or
 * `mqtt.subscribe_denied`; client-id takeover [MQTT-3.1.4-2]; rates per address, client id and
 * user name; malformed and oversized packets. Only a capture sees `mqtt.publish` (every PUBLISH,
 * both ways), `mqtt.unsubscribe` and `mqtt.connect_unanswered`. Time is the capture's; state is
 * bounded; never throws. Event builders: mqtt-events.ts and mqtt-traffic-events.ts.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EvictionCursor } from '../../../protocols/event/evict.ts';
import {
  checkFirstByte,
  decodeMqttPacket,
  type MqttDecodeResult,
  type MqttError,
  type MqttPacket,
  peekProtocolLevel,
  readFixedHeader,
} from '../../../protocols/mqtt/index.ts';
import type { TcpChunk } from '../../../protocols/pcap/index.ts';
import type { MqttConn, MqttRates } from './mqtt-conn.ts';
import { createMqttEvents } from './mqtt-events.ts';
import type { FrameMeta } from './frame-meta.ts';

export type { MqttRates } from './mqtt-conn.ts';

export interface MqttCaptureOptions {
  /** TCP ports of brokers: the side listening on one is the server. */
  ports: Set<number>;
  /** Largest packet buffered whole; a larger one is `mqtt.oversized_packet` and skipped. */
  maxPacketBytes: number;
  rates: MqttRates;
  extra: Record<string, unknown>;
}

export interface MqttCaptureStats {
  packets: number;
  malformed: number;
  /** Bytes dropped after a hole in the capture until a packet boundary was found again. */
  resyncDrops: number;
}

const EMPTY: Uint8Array = new Uint8Array(0);
/** Unanswered CONNECTs and SUBSCRIBEs are reported after this long (capture time). */
const ANSWER_WAIT_MS = 30_000;
const MAX_CONNECTIONS = 65_536;

function append(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function createMqttCaptureDecoder(options: MqttCaptureOptions) {
  const stats: MqttCaptureStats = { packets: 0, malformed: 0, resyncDrops: 0 };
  const conns = new Map<string, MqttConn>();
  const oldestConn = new EvictionCursor(conns);
  const ev = createMqttEvents(options);
  let lastSweep = 0;

  /** The connection of a flow (either direction), created on first sight. */
  const connOf = (f: TcpChunk<FrameMeta>['flow'], create: boolean): MqttConn | undefined => {
    const fwd = `${f.src}|${f.srcPort}|${f.dst}|${f.dstPort}`;
    const rev = `${f.dst}|${f.dstPort}|${f.src}|${f.srcPort}`;
    const found = conns.get(fwd) ?? conns.get(rev);
    if (found || !create) return found;
    // The side on a broker port is the server; on other ports the first sender (its CONNECT) is the client.
    const clientIsSrc = options.ports.has(f.dstPort) || !options.ports.has(f.srcPort);
    const [c, s] = clientIsSrc
      ? [
          { ip: f.src, port: f.srcPort },
          { ip: f.dst, port: f.dstPort },
        ]
      : [
          { ip: f.dst, port: f.dstPort },
          { ip: f.src, port: f.srcPort },
        ];
    if (conns.size >= MAX_CONNECTIONS) oldestConn.evict();
    const conn: MqttConn = {
      key: `${c.ip}|${c.port}|${s.ip}|${s.port}`,
      info: {
        ip: c.ip,
        port: c.port,
        localIp: s.ip,
        localPort: s.port,
        transport: 'tcp',
      },
      dirs: [
        { buf: EMPTY, skip: 0, dead: false, resync: true },
        { buf: EMPTY, skip: 0, dead: false, resync: true },
      ],
      subs: new Map(),
      closed: false,
    };
    conns.set(conn.key, conn);
    return conn;
  };

  const decode = (conn: MqttConn, frame: Uint8Array): MqttDecodeResult => {
    const level = conn.info.protocolLevel;
    const result = decodeMqttPacket(frame, { protocolLevel: level ?? 4 });
    // A capture that starts mid-connection has no CONNECT: 3.1.1, else MQTT 5 if that fits.
    if (level === undefined && !result.ok && result.error.code === 'length_mismatch') {
      const v5 = decodeMqttPacket(frame, { protocolLevel: 5 });
      if (v5.ok) {
        conn.info.protocolLevel = 5;
        return v5;
      }
    }
    return result;
  };

  const handle = (
    conn: MqttConn,
    p: MqttPacket,
    fromClient: boolean,
    meta: FrameMeta,
    out: PendingEvent[],
  ) => {
    switch (p.type) {
      case 'connect':
        return ev.connect(conn, p, meta, out);
      case 'connack':
        return ev.connack(conn, p, meta, out);
      case 'subscribe':
        return ev.subscribe(conn, p, meta, out);
      case 'suback':
        return ev.suback(conn, p, meta, out);
      case 'unsubscribe':
        return ev.unsubscribe(conn, p, meta, out);
      case 'publish':
        return ev.publish(conn, p, fromClient, meta, out);
      case 'disconnect':
        return ev.disconnect(
          conn,
          fromClient ? 'client_disconnect' : 'server_disconnect',
          meta,
          out,
          p.reasonCode,
        );
      default:
    }
  };

  const malformed = (
    conn: MqttConn,
    error: MqttError,
    bytes: Uint8Array,
    fromClient: boolean,
    meta: FrameMeta,
    out: PendingEvent[],
  ) => {
    stats.malformed++;
    ev.malformed(conn, error, bytes, fromClient, meta, out);
  };

  /** Cuts and decodes what a direction has; keeps an incomplete packet for the next chunk. */
  const chunk = (c: TcpChunk<FrameMeta>, out: PendingEvent[]) => {
    const conn = connOf(c.flow, true)!;
    const fromClient = c.flow.src === conn.info.ip && c.flow.srcPort === conn.info.port;
    const d = conn.dirs[fromClient ? 0 : 1];
    if (c.gap) Object.assign(d, { buf: EMPTY, skip: 0, dead: false, resync: true });
    if (d.dead) return;
    let data = c.data;
    if (d.skip > 0) {
      const n = Math.min(d.skip, data.length);
      d.skip -= n;
      data = data.subarray(n);
    }
    let buf = append(d.buf, data);
    let off = 0;
    while (off < buf.length) {
      const head = readFixedHeader(buf, off, { maxPacketBytes: options.maxPacketBytes });
      if (head.status === 'incomplete') break;
      if (head.status === 'error' && d.resync) {
        // After a hole the bytes may start mid-packet: wait for the next segment, report nothing.
        stats.resyncDrops += buf.length - off;
        off = buf.length;
        break;
      }
      if (head.status === 'error') {
        if (head.error.code === 'too_large') {
          const declared = head.error.declaredBytes ?? 0;
          ev.oversized(conn, head.error, fromClient, c.meta, out);
          const have = buf.length - off;
          if (declared <= have) {
            off += declared;
            continue;
          }
          d.skip = declared - have;
          off = buf.length;
          break;
        }
        malformed(conn, head.error, buf.subarray(off), fromClient, c.meta, out);
        d.dead = true; // the stream has lost its framing (e.g. a five-byte remaining length)
        off = buf.length;
        break;
      }
      if (d.resync && checkFirstByte(buf[off]!, conn.info.protocolLevel ?? 5)) {
        // Not a packet start (reserved type or fixed flags wrong): do not wait for its "length".
        stats.resyncDrops += buf.length - off;
        off = buf.length;
        break;
      }
      const end = off + head.header.headerLength + head.header.remainingLength;
      if (end > buf.length) break;
      const frame = buf.subarray(off, end);
      off = end;
      stats.packets++;
      const result = decode(conn, frame);
      if (!result.ok) {
        if (d.resync) {
          stats.resyncDrops += buf.length - (off - frame.length);
          off = buf.length;
          break;
        }
        if (result.error.type === 'connect')
          conn.info.protocolLevel = peekProtocolLevel(frame) ?? conn.info.protocolLevel;
        malformed(conn, result.error, frame, fromClient, c.meta, out);
        continue;
      }
      d.resync = false;
      handle(conn, result.packet, fromClient, c.meta, out);
    }
    // Keep only the incomplete tail, copied so the chunk it came from can be freed.
    d.buf = off >= buf.length ? EMPTY : buf.slice(off);
    buf = EMPTY;
  };

  return {
    stats,
    chunk,
    /** A SYN (new connection): its directions start at a packet boundary; counted per address. */
    syn(flow: TcpChunk<FrameMeta>['flow'], m: FrameMeta, out: PendingEvent[]) {
      const old = connOf(flow, false);
      if (old) conns.delete(old.key);
      const conn = connOf(flow, true)!;
      for (const d of conn.dirs) d.resync = false;
      ev.count(conn, 'connections', m, out);
    },
    /** FIN or RST: a connection that ends without DISCONNECT was lost (or taken over). */
    close(flow: TcpChunk<FrameMeta>['flow'], rst: boolean, m: FrameMeta, out: PendingEvent[]) {
      const conn = connOf(flow, false);
      if (!conn || conn.closed) return;
      ev.disconnect(conn, conn.info.closeReason ?? (rst ? 'connection_reset' : 'connection_lost'), m, out);
    },
    /** Reports what waited too long for an answer; forgets closed connections. */
    sweep(now: Date, out: PendingEvent[]) {
      const t = now.getTime();
      if (t - lastSweep < 10_000) return;
      lastSweep = t;
      for (const [key, conn] of conns) {
        ev.expire(conn, t - ANSWER_WAIT_MS, out);
        if (conn.closed && conn.closedAt !== undefined && t - conn.closedAt > ANSWER_WAIT_MS)
          conns.delete(key);
      }
    },
    flush(out: PendingEvent[]) {
      for (const conn of conns.values()) ev.expire(conn, Number.POSITIVE_INFINITY, out);
    },
  };
}

export type MqttCaptureDecoder = ReturnType<typeof createMqttCaptureDecoder>;
