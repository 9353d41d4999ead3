/**
 * Reads a capture through the project's pcap reader and TCP reassembly into the EtherNet/IP codec
 * the way a capture source would wire it (TCP 44818: one createEnipSession per connection fed
 * with each direction's reassembled bytes; UDP 44818: decodeEncap; UDP 2222: decodeIo), and keeps
 * per frame what was decoded and the events it maps to. Shared by the ground-truth tests and the
 * speed measurement.
 */
import { readFileSync } from 'node:fs';
import {
  CIP_IO_PORT,
  createEnipSession,
  decodeEnipDatagram,
  ENIP_PORT,
  type EnipDirection,
  enipErrorToEvent,
  type EnipPdu,
  type EnipResult,
  type EnipSession,
  enipToEvents,
} from '../../../protocols/enip/index.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { createTcpStreamTracker, decodePacket, readCapture } from '../../../protocols/pcap/index.ts';

export interface TraceDecode {
  frame: number;
  transport: 'tcp' | 'udp';
  direction: EnipDirection;
  result: EnipResult<EnipPdu>;
  request?: { pdu: EnipPdu; meta: { frame: number } };
  anomalies: string[];
}

export interface Trace {
  frames: number;
  decodes: TraceDecode[];
  events: PendingEvent[];
  framingErrors: number;
}

export function readEnipTrace(file: string, withEvents = true): Trace {
  const capture = readCapture(readFileSync(file));
  const tcp = createTcpStreamTracker<{ frame: number; ts: Date }>({ maxPendingBytes: 0 });
  const sessions = new Map<string, EnipSession<{ frame: number }>>();
  const decodes: TraceDecode[] = [];
  const events: PendingEvent[] = [];
  let framingErrors = 0;
  capture.packets.forEach((packet, i) => {
    const frame = i + 1;
    const decoded = decodePacket(packet.linkType, packet.data);
    if (!decoded.ok) return;
    const p = decoded.packet;
    const meta = { frame, ts: packet.ts };
    if (p.proto === 'udp') {
      const ports = [p.srcPort, p.dstPort];
      if (!ports.includes(CIP_IO_PORT) && !ports.includes(ENIP_PORT)) return;
      const { direction, result } = decodeEnipDatagram(p.payload, p);
      decodes.push({ frame, transport: 'udp', direction, result, anomalies: [] });
      if (!withEvents) return;
      const ctx = {
        received: packet.ts,
        client: {
          ip: direction === 'request' ? p.src : p.dst,
          port: direction === 'request' ? p.srcPort : p.dstPort,
        },
        server: {
          ip: direction === 'request' ? p.dst : p.src,
          port: direction === 'request' ? p.dstPort : p.srcPort,
        },
        extra: { frame, transport: 'udp' },
      };
      if (result.ok) for (const e of enipToEvents(result.value, direction, ctx)) events.push(e);
      else events.push(enipErrorToEvent(result.error, p.payload, direction, ctx));
      return;
    }
    if (p.dstPort !== ENIP_PORT && p.srcPort !== ENIP_PORT) return;
    for (const chunk of tcp.push(p, meta)) {
      const { flow } = chunk;
      const direction: EnipDirection = flow.dstPort === ENIP_PORT ? 'request' : 'response';
      const [client, server] =
        direction === 'request'
          ? [
              { ip: flow.src, port: flow.srcPort },
              { ip: flow.dst, port: flow.dstPort },
            ]
          : [
              { ip: flow.dst, port: flow.dstPort },
              { ip: flow.src, port: flow.srcPort },
            ];
      const key = `${client.ip}|${client.port}|${server.ip}|${server.port}`;
      let session = sessions.get(key);
      if (!session) sessions.set(key, (session = createEnipSession<{ frame: number }>()));
      const out = session.push(chunk.data, direction, { frame: chunk.meta.frame }, chunk.gap);
      framingErrors += out.errors.length;
      const ctx = { received: chunk.meta.ts, client, server };
      for (const e of out.errors)
        if (withEvents) events.push(enipErrorToEvent(e, e.skipped, direction, { ...ctx, extra: { frame } }));
      for (const d of out.decoded) {
        const entry: TraceDecode = {
          frame: chunk.meta.frame,
          transport: 'tcp',
          direction,
          result: d.result,
          anomalies: d.anomalies,
        };
        if (d.request) entry.request = d.request;
        decodes.push(entry);
        if (!withEvents) continue;
        const extra: Record<string, unknown> = { frame: chunk.meta.frame, transport: 'tcp' };
        if (d.request) extra.request_frame = d.request.meta.frame;
        // Built by assignment: object spreads are slow under the TypeScript loader (the OT decode bench measured it).
        const eventCtx = { received: ctx.received, client, server, extra, anomalies: d.anomalies };
        if (d.result.ok)
          for (const e of enipToEvents(d.result.value, direction, eventCtx, d.request?.pdu)) events.push(e);
        else events.push(enipErrorToEvent(d.result.error, d.bytes, direction, eventCtx));
      }
    }
  });
  return { frames: capture.packets.length, decodes, events, framingErrors };
}
