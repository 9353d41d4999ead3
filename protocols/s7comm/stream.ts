/**
 * The capture-facing API: in-order TCP bytes of many connections in, events out. Keeps one
 * S7comm session per connection (client address and port, controller address and port), decides
 * each chunk's direction from the controller ports (TCP 102 by default), maps every message with
 * `s7commToEvent` and every framing error with `s7commErrorToEvent`, and adds the frame of the
 * request to each answer. This is what the gateway's capture source and `replay` call for the
 * S7 ports, next to their Modbus path; pure, with the connection count bounded.
 */
import type { PendingEvent } from '../event/schema.ts';
import { FlowSessions } from '../pcap/flow-sessions.ts';
import { S7COMM_PORT } from './ports.ts';
import { createS7commSession, type S7commSession } from './session.ts';
import { s7commErrorToEvent, s7commToEvent } from './to-event.ts';

export interface S7commStreamOptions {
  /** TCP ports S7 controllers listen on (default [102]). */
  ports?: number[];
  /** Connections followed at once; the oldest is forgotten beyond it (default 4,096). */
  maxConnections?: number;
  /** Added to every event's fields (e.g. the file name in a multi-file replay). */
  extraFields?: Record<string, unknown>;
}

export interface S7commFlow {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

export interface S7commChunkMeta {
  /** Capture time of the packet that completed the bytes. */
  ts: Date;
  /** Frame number in the capture, copied to `fields.frame` (and `request_frame` on answers). */
  frame?: number;
}

export interface S7commStreams {
  /** Whether a TCP flow is S7 (either end on one of the ports). */
  matches(flow: S7commFlow): boolean;
  /** The next in-order bytes of one direction; `gap` when bytes were missed before them. */
  push(flow: S7commFlow, data: Uint8Array, gap: boolean, meta: S7commChunkMeta): PendingEvent[];
  /**
   * The connection of `flow` (either direction) is over, by FIN or RST: its session, with its
   * half-built fragments and open requests, goes. Bytes on the same four-tuple later start afresh.
   */
  close(flow: S7commFlow): void;
  /** Connections followed now. */
  connections(): number;
  stats: { messages: number; malformed: number };
}

export function createS7commStreams(options: S7commStreamOptions = {}): S7commStreams {
  const ports = new Set(options.ports ?? [S7COMM_PORT]);
  const maxConnections = options.maxConnections ?? 4096;
  const extra = options.extraFields ?? {};
  const stats = { messages: 0, malformed: 0 };
  const hasExtra = Object.keys(extra).length > 0;
  /** Fields every event of a chunk starts from: the extra fields and the frame number. */
  const framed = (m: S7commChunkMeta): Record<string, unknown> => {
    const f: Record<string, unknown> = hasExtra ? { ...extra } : {};
    if (m.frame !== undefined) f.frame = m.frame;
    return f;
  };
  const sessions = new FlowSessions<S7commSession<S7commChunkMeta>>({
    max: maxConnections,
    // `client|cport|server|sport`, the same for both directions of a connection.
    keyOf: (flow) =>
      ports.has(flow.dstPort)
        ? `${flow.src}|${flow.srcPort}|${flow.dst}|${flow.dstPort}`
        : `${flow.dst}|${flow.dstPort}|${flow.src}|${flow.srcPort}`,
    create: () => createS7commSession<S7commChunkMeta>(),
  });
  return {
    matches: (flow) => ports.has(flow.dstPort) || ports.has(flow.srcPort),
    push(flow, data, gap, meta) {
      const request = ports.has(flow.dstPort);
      const client = request ? { ip: flow.src, port: flow.srcPort } : { ip: flow.dst, port: flow.dstPort };
      const server = request ? { ip: flow.dst, port: flow.dstPort } : { ip: flow.src, port: flow.srcPort };
      const session = sessions.of(flow);
      const direction = request ? 'request' : 'response';
      const { messages, errors } = session.push(direction, data, meta, gap);
      const out: PendingEvent[] = [];
      for (const e of errors) {
        stats.malformed++;
        out.push(
          s7commErrorToEvent(e, e.skipped, direction, {
            received: meta.ts,
            client,
            server,
            extra: framed(meta),
          }),
        );
      }
      for (const m of messages) {
        stats.messages++;
        if (m.error) stats.malformed++;
        const fields = framed(meta);
        if (m.request?.meta.frame !== undefined) fields.request_frame = m.request.meta.frame;
        out.push(s7commToEvent(m, { received: meta.ts, client, server, extra: fields }));
      }
      return out;
    },
    close(flow) {
      sessions.close(flow);
    },
    connections: () => sessions.size,
    stats,
  };
}
