/**
 * DNP3 decode throughput on the largest trace, ICSNPP's dnp3_example.pcap (834 DNP3 frames in 11
 * TCP connections): link frames per second through the session alone (deframing, CRCs, transport
 * reassembly, application decode, pairing; the TCP payloads extracted beforehand) and through the
 * session plus `dnp3ItemToEvent`, by wall clock and by this process's CPU time (the second is what
 * a shared machine does not distort). Run: `npx tsx tests/bench/dnp3-decode.ts`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createDnp3Session, dnp3ItemToEvent } from '../../protocols/dnp3/index.ts';
import { createTcpStreamTracker, decodePacket, readCapture } from '../../protocols/pcap/index.ts';
import { SHARED_DATA } from '../support/env.ts';

const file = path.join(SHARED_DATA, 'dnp3', 'icsnpp', 'dnp3_example.pcap');
const tracker = createTcpStreamTracker<number>();
const chunks: Array<{ conn: string; side: string; data: Uint8Array; src: string; dst: string }> = [];
readCapture(readFileSync(file)).packets.forEach((p, i) => {
  const d = decodePacket(p.linkType, p.data);
  if (!d.ok || d.packet.proto !== 'tcp') return;
  for (const c of tracker.push(d.packet, i + 1)) {
    const ends = [`${c.flow.src}:${c.flow.srcPort}`, `${c.flow.dst}:${c.flow.dstPort}`].sort();
    chunks.push({ conn: ends.join('|'), side: c.key, data: c.data, src: c.flow.src, dst: c.flow.dst });
  }
});
let frames = 0;
{
  const sessions = new Map<string, ReturnType<typeof createDnp3Session>>();
  for (const c of chunks) {
    if (!sessions.has(c.conn)) sessions.set(c.conn, createDnp3Session());
    frames += sessions
      .get(c.conn)!
      .push(c.side, c.data, undefined)
      .filter((i) => i.type === 'link').length;
  }
}

function measure(name: string, pass: () => void, rounds: number): void {
  pass(); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) pass();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const n = frames * rounds;
  console.log(
    `${name.padEnd(16)} ${Math.round(n / wall).toLocaleString('en')} frames/s wall, ` +
      `${Math.round(n / cpuSecs).toLocaleString('en')} frames/s CPU`,
  );
}

console.log(`${frames} link frames in ${chunks.length} TCP chunks from ${path.basename(file)}`);
measure(
  'session',
  () => {
    const sessions = new Map<string, ReturnType<typeof createDnp3Session>>();
    for (const c of chunks) {
      let s = sessions.get(c.conn);
      if (!s) sessions.set(c.conn, (s = createDnp3Session()));
      s.push(c.side, c.data, undefined);
    }
  },
  200,
);
const now = new Date();
measure(
  'session + events',
  () => {
    const sessions = new Map<string, ReturnType<typeof createDnp3Session<{ frame: number }>>>();
    for (const c of chunks) {
      let s = sessions.get(c.conn);
      if (!s) sessions.set(c.conn, (s = createDnp3Session<{ frame: number }>()));
      for (const item of s.push(c.side, c.data, { frame: 1 }))
        dnp3ItemToEvent(item, {
          received: now,
          transport: 'tcp',
          src: { ip: c.src, port: 20000 },
          dst: { ip: c.dst, port: 20000 },
        });
    }
  },
  100,
);
