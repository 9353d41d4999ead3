/**
 * OPC UA decode throughput on the largest ICSNPP OPC UA trace (opcua_with-gap_with-handshake.pcap:
 * 411 frames, 239 carrying OPC UA, 240 messages): messages per second through the session alone
 * (chunk framing, decoding, pairing, session following, fed the reassembled TCP chunks), through
 * the stream decoder to `Event`, and capture frames per second through the whole capture path
 * (frame decode, TCP reassembly, stream decoder), by wall clock and by this process's CPU time.
 * Run: `npx tsx tests/bench/opcua-decode.ts`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createOpcuaFlowDecoder, createOpcuaSession } from '../../protocols/opcua/index.ts';
import {
  createTcpStreamTracker,
  decodePacket,
  readCapture,
  type TcpChunk,
} from '../../protocols/pcap/index.ts';
import { SHARED_DATA } from '../support/env.ts';

const file = path.join(SHARED_DATA, 'opcua', 'icsnpp', 'opcua_with-gap_with-handshake.pcap');
const packets = readCapture(readFileSync(file)).packets;
type Meta = { frame: number; ts: Date };
const chunks: TcpChunk<Meta>[] = [];
{
  const tcp = createTcpStreamTracker<Meta>();
  packets.forEach((p, i) => {
    const d = decodePacket(p.linkType, p.data);
    if (d.ok) chunks.push(...tcp.push(d.packet, { frame: i + 1, ts: p.ts }));
  });
  chunks.push(...tcp.flush());
}
let messages = 0;

function measure(name: string, unit: string, perPass: number, pass: () => void, rounds: number): void {
  pass(); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) pass();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const n = perPass * rounds;
  console.log(
    `${name.padEnd(14)} ${Math.round(n / wall).toLocaleString('en')} ${unit}/s wall, ` +
      `${Math.round(n / cpuSecs).toLocaleString('en')} ${unit}/s CPU`,
  );
}

const sessionPass = () => {
  const sessions = new Map<string, ReturnType<typeof createOpcuaSession<Meta>>>();
  messages = 0;
  for (const c of chunks) {
    const f = c.flow;
    const toServer = f.dstPort === 4840;
    const key = toServer ? `${f.src}|${f.srcPort}` : `${f.dst}|${f.dstPort}`;
    let s = sessions.get(key);
    if (!s) sessions.set(key, (s = createOpcuaSession<Meta>()));
    messages += s.push(toServer ? 'request' : 'response', c.data, c.meta, c.gap).length;
  }
};
sessionPass();
console.log(
  `${packets.length} frames, ${chunks.length} TCP chunks, ${messages} OPC UA messages from ${path.basename(file)}`,
);
measure('session', 'messages', messages, sessionPass, 400);
measure(
  'to events',
  'messages',
  messages,
  () => {
    const d = createOpcuaFlowDecoder();
    for (const c of chunks) d.chunk(c);
  },
  200,
);
measure(
  'capture path',
  'frames',
  packets.length,
  () => {
    const d = createOpcuaFlowDecoder();
    const tcp = createTcpStreamTracker<Meta>();
    packets.forEach((p, i) => {
      const x = decodePacket(p.linkType, p.data);
      if (x.ok && x.packet.proto === 'tcp' && d.wants(x.packet))
        for (const c of tcp.push(x.packet, { frame: i + 1, ts: p.ts })) d.chunk(c);
    });
    for (const c of tcp.flush()) d.chunk(c);
  },
  200,
);
