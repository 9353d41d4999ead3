/**
 * Reads a capture from ../shared/data through the project's pcap reader, TCP reassembly and the
 * OPC UA stream decoder, the way a passive capture would: the helper the ground-truth tests, the
 * rule checks share (the OT decode bench has its own copy in tests/bench/support/ot-decode.ts).
 */
import { readFileSync } from 'node:fs';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  createOpcuaFlowDecoder,
  type OpcuaFlowDecoder,
  type OpcuaFlowOptions,
} from '../../../protocols/opcua/index.ts';
import { createTcpStreamTracker, decodePacket, readCapture } from '../../../protocols/pcap/index.ts';

export interface TraceResult {
  events: PendingEvent[];
  frames: number;
}

/** Decodes `file` (with `decoder` when given, to go on with it afterwards). */
export function decodeTrace(
  file: string,
  options: OpcuaFlowOptions = {},
  decoder: OpcuaFlowDecoder = createOpcuaFlowDecoder(options),
): TraceResult {
  const capture = readCapture(readFileSync(file));
  const tcp = createTcpStreamTracker<{ frame: number; ts: Date }>();
  const events: PendingEvent[] = [];
  let frame = 0;
  for (const packet of capture.packets) {
    frame++;
    const d = decodePacket(packet.linkType, packet.data);
    if (!d.ok || d.packet.proto !== 'tcp' || !decoder.wants(d.packet)) continue;
    for (const chunk of tcp.push(d.packet, { frame, ts: packet.ts })) events.push(...decoder.chunk(chunk));
  }
  for (const chunk of tcp.flush()) events.push(...decoder.chunk(chunk));
  return { events, frames: frame };
}
