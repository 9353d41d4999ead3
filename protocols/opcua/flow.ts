/**
 * The stream-level API a passive capture adopts: reassembled TCP chunks (protocols/pcap
 * `createTcpStreamTracker`) in, events out. It keeps one `OpcuaSession` per connection, decides
 * which side is the server (a configured server port, else the side that did not send HEL), and
 * follows streams on other ports once they open with a HEL (`looksLikeOpcuaHello`). Every event
 * carries the frame that completed it and, for responses, the frame of the request. Pure apart
 * from its own bounded state; time comes from the chunks' metadata.
 */
import { RecencyMap } from '../event/recency.ts';
import type { PendingEvent } from '../event/schema.ts';
import { FlowSessions } from '../pcap/flow-sessions.ts';
import { createOpcuaSession, type OpcuaSession, type OpcuaSessionOptions } from './session.ts';
import { opcuaErrorToEvent, opcuaToEvent } from './to-event.ts';

/** The registered OPC UA binary port (IANA "opcua-tcp"); 4843 is opc.tcp over TLS and unreadable. */
export const OPCUA_DEFAULT_PORTS: readonly number[] = [4840];
/** Connections followed at once; the oldest is forgotten beyond it. */
export const MAX_OPCUA_CONNECTIONS = 4096;

export interface OpcuaFrameMeta {
  /** 1-based frame number in the capture. */
  frame: number;
  ts: Date;
}

/** The parts of protocols/pcap's `TcpChunk` this decoder reads. */
export interface OpcuaTcpChunk<M extends OpcuaFrameMeta> {
  flow: { src: string; srcPort: number; dst: string; dstPort: number };
  data: Uint8Array;
  gap: boolean;
  meta: M;
}

export interface OpcuaFlowOptions extends OpcuaSessionOptions {
  /** TCP ports of OPC UA servers (default 4840). */
  ports?: readonly number[];
  /** Also follow streams on other ports that open with a HEL (default true). */
  detect?: boolean;
  /** Added to every event's fields. */
  extraFields?: Record<string, unknown>;
  /** Bytes of half-built messages held across all connections (default 16 MiB). */
  maxHeldBytes?: number;
  /** Connections followed at once; the oldest is forgotten beyond it (default 4,096). */
  maxConnections?: number;
}

export interface OpcuaFlowDecoder {
  /** True when the decoder wants this TCP segment's stream (port, or a HEL seen on it). */
  wants(p: { src: string; srcPort: number; dst: string; dstPort: number; payload: Uint8Array }): boolean;
  chunk(chunk: OpcuaTcpChunk<OpcuaFrameMeta>): PendingEvent[];
  /**
   * The connection of `flow` (either direction) is over, by FIN or RST: its session, its
   * half-built messages (returned to the budget) and its HEL detection go.
   */
  close(flow: { src: string; srcPort: number; dst: string; dstPort: number }): void;
  stats: { messages: number; malformed: number; connections: () => number; held: () => number };
}

/** A HEL chunk header: `HELF` then a MessageSize of 32..4,128 bytes (§7.1.2.3). */
export function looksLikeOpcuaHello(b: Uint8Array): boolean {
  if (b.length < 8 || b[0] !== 0x48 || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) return false;
  const size = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  return size >= 32 && size <= 32 + 4096;
}

export function createOpcuaFlowDecoder(options: OpcuaFlowOptions = {}): OpcuaFlowDecoder {
  const ports = new Set(options.ports ?? OPCUA_DEFAULT_PORTS);
  const detect = options.detect ?? true;
  const extra = options.extraFields ?? {};
  const hasExtra = Object.keys(extra).length > 0;
  /** `client|cport|server|sport` of connections found by their HEL off the configured ports. */
  const found = new Set<string>();
  const maxHeld = options.maxHeldBytes ?? 16 * 1024 * 1024;
  const maxConnections = options.maxConnections ?? MAX_OPCUA_CONNECTIONS;
  let held = 0;
  const sessions = new FlowSessions<OpcuaSession<OpcuaFrameMeta>>({
    max: maxConnections,
    keyOf: (flow) => {
      const { client, server } = sides(flow);
      return `${client.ip}|${client.port}|${server.ip}|${server.port}`;
    },
    create: () => createOpcuaSession<OpcuaFrameMeta>(options),
    evicted: (session) => {
      held -= session.held();
    },
  });
  const stats = { messages: 0, malformed: 0, connections: () => sessions.size, held: () => held };
  /**
   * Each server's application URI (`ip|port` → URI), as its last connection named it: the
   * identity of its events on later connections before they name it again. Bounded like the sessions.
   */
  const serverUris = new RecencyMap<string, string>();

  const sides = (f: OpcuaTcpChunk<OpcuaFrameMeta>['flow']) => {
    const toServer = ports.has(f.dstPort) || found.has(`${f.src}|${f.srcPort}|${f.dst}|${f.dstPort}`);
    const a = { ip: f.src, port: f.srcPort };
    const b = { ip: f.dst, port: f.dstPort };
    return toServer
      ? { client: a, server: b, direction: 'request' as const }
      : { client: b, server: a, direction: 'response' as const };
  };

  return {
    stats,
    wants(p) {
      if (ports.has(p.dstPort) || ports.has(p.srcPort)) return true;
      const key = `${p.src}|${p.srcPort}|${p.dst}|${p.dstPort}`;
      if (found.has(key) || found.has(`${p.dst}|${p.dstPort}|${p.src}|${p.srcPort}`)) return true;
      if (!detect || !looksLikeOpcuaHello(p.payload)) return false;
      if (found.size >= maxConnections) found.clear();
      found.add(key);
      return true;
    },
    chunk(chunk) {
      const { client, server, direction } = sides(chunk.flow);
      const session = sessions.of(chunk.flow);
      const out: PendingEvent[] = [];
      const before = session.held();
      const decoded = session.push(direction, chunk.data, chunk.meta, chunk.gap);
      held += session.held() - before;
      if (held > maxHeld) {
        // Over the decoder's budget: this connection's half-built messages go, and say so.
        const freed = session.discard();
        held -= freed;
        decoded.push({
          ok: false,
          direction,
          error: {
            code: 'message_too_large',
            message: `half-built messages over the decoder's ${maxHeld}-byte budget`,
          },
          bytes: new Uint8Array(0),
          byteCount: freed,
          meta: chunk.meta,
          connection: session.connection,
        });
      }
      const serverKey = `${server.ip}|${server.port}`;
      for (const d of decoded) {
        const uri = d.connection.serverApplicationUri;
        if (uri !== undefined && serverUris.get(serverKey) !== uri) {
          if (!serverUris.has(serverKey) && serverUris.size >= maxConnections) serverUris.evictOldest();
          serverUris.set(serverKey, uri);
        }
        // No spread when there is nothing to add (the usual case): it ran once per message.
        const fields: Record<string, unknown> = hasExtra
          ? { ...extra, frame: d.meta.frame }
          : { frame: d.meta.frame };
        const ctx = {
          received: d.meta.ts,
          client,
          server,
          extra: fields,
          serverApplicationUri: serverUris.get(serverKey),
        };
        if (d.ok) {
          stats.messages++;
          if (d.request) fields.request_frame = d.request.meta.frame;
          out.push(opcuaToEvent(d, ctx));
        } else {
          stats.malformed++;
          out.push(opcuaErrorToEvent(d, ctx));
        }
      }
      return out;
    },
    close(flow) {
      const session = sessions.close(flow);
      if (session) held -= session.held();
      found.delete(`${flow.src}|${flow.srcPort}|${flow.dst}|${flow.dstPort}`);
      found.delete(`${flow.dst}|${flow.dstPort}|${flow.src}|${flow.srcPort}`);
    },
  };
}
