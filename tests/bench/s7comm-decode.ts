/**
 * S7comm decode throughput on the largest trace, ICSNPP's s7comm_plus.pcap (157 TPKT frames in 3
 * connections to TCP 102: classic S7comm read/write var and S7comm-plus): TPKT frames per second
 * through the session alone (TPKT/COTP framing, S7 PDU decoding, pairing; the TCP payloads
 * extracted beforehand) and through the session plus `s7commToEvent`, by wall clock and by this
 * process's CPU time (the second is what a shared machine does not distort).
 * Run: `npx tsx tests/bench/s7comm-decode.ts`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createTcpStreamTracker, decodePacket, readCapture } from '../../protocols/pcap/index.ts';
import { createS7commSession, type S7Direction, s7commToEvent } from '../../protocols/s7comm/index.ts';
import { SHARED_DATA } from '../support/env.ts';

const file = path.join(SHARED_DATA, 's7comm', 'icsnpp', 's7comm_plus.pcap');
const tracker = createTcpStreamTracker<number>({ maxPendingBytes: 0 });
interface Chunk {
  conn: string;
  direction: S7Direction;
  data: Uint8Array;
  client: { ip: string; port: number };
  server: { ip: string; port: number };
}
const chunks: Chunk[] = [];
readCapture(readFileSync(file)).packets.forEach((p, i) => {
  const d = decodePacket(p.linkType, p.data);
  if (!d.ok || d.packet.proto !== 'tcp') return;
  for (const c of tracker.push(d.packet, i + 1)) {
    const request = c.flow.dstPort === 102;
    const client = request
      ? { ip: c.flow.src, port: c.flow.srcPort }
      : { ip: c.flow.dst, port: c.flow.dstPort };
    const server = request
      ? { ip: c.flow.dst, port: c.flow.dstPort }
      : { ip: c.flow.src, port: c.flow.srcPort };
    chunks.push({
      conn: `${client.ip}|${client.port}`,
      direction: request ? 'request' : 'response',
      data: c.data,
      client,
      server,
    });
  }
});

type Session = ReturnType<typeof createS7commSession<number>>;
function pass(withEvents: boolean): number {
  const sessions = new Map<string, Session>();
  const received = new Date();
  let frames = 0;
  for (const c of chunks) {
    let s = sessions.get(c.conn);
    if (!s) sessions.set(c.conn, (s = createS7commSession<number>()));
    const r = s.push(c.direction, c.data, 0);
    frames += r.messages.length;
    if (withEvents)
      for (const m of r.messages) s7commToEvent(m, { received, client: c.client, server: c.server });
  }
  return frames;
}

const frames = pass(false);
function measure(name: string, withEvents: boolean, rounds: number): void {
  pass(withEvents); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) pass(withEvents);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const n = frames * rounds;
  console.log(
    `${name.padEnd(16)} ${Math.round(n / wall).toLocaleString('en')} frames/s wall, ` +
      `${Math.round(n / cpuSecs).toLocaleString('en')} frames/s CPU`,
  );
}

console.log(`${frames} TPKT frames in ${chunks.length} TCP chunks from ${path.basename(file)}`);
measure('session', false, 2000);
measure('session + events', true, 1000);
