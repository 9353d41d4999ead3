/**
 * BACnet decode throughput on the largest ICSNPP trace (bacnet_services.pcap, 7,049 BACnet/IP
 * datagrams): frames per second through `decodeBacnetIp` alone, through the session (reassembly
 * and pairing) and through the event stream (to `Event`), by wall clock and by this process's CPU
 * time (the second is what a shared machine does not distort). Run: `npx tsx tests/bench/bacnet-decode.ts`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  createBacnetEventStream,
  createBacnetSession,
  decodeBacnetIp,
} from '../../protocols/bacnet/index.ts';
import { decodePacket, readCapture } from '../../protocols/pcap/index.ts';
import { SHARED_DATA } from '../support/env.ts';

const file = path.join(SHARED_DATA, 'bacnet', 'icsnpp', 'bacnet_services.pcap');
const datagrams = readCapture(readFileSync(file))
  .packets.map((p) => decodePacket(p.linkType, p.data))
  .flatMap((d) => (d.ok && d.packet.proto === 'udp' ? [d.packet] : []));

function measure(name: string, pass: () => void, rounds: number): void {
  pass(); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) pass();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const frames = datagrams.length * rounds;
  console.log(
    `${name.padEnd(16)} ${Math.round(frames / wall).toLocaleString('en')} frames/s wall, ` +
      `${Math.round(frames / cpuSecs).toLocaleString('en')} frames/s CPU`,
  );
}

console.log(`${datagrams.length} datagrams from ${path.basename(file)}`);
measure('decodeBacnetIp', () => datagrams.forEach((p) => decodeBacnetIp(p.payload)), 50);
measure(
  'session',
  () => {
    const s = createBacnetSession<number>();
    for (const p of datagrams)
      s.decodeDatagram(p.payload, `${p.src}:${p.srcPort}`, `${p.dst}:${p.dstPort}`, 0);
  },
  30,
);
const now = new Date();
measure(
  'event stream',
  () => {
    const s = createBacnetEventStream();
    for (const p of datagrams) s.datagram(p, now);
  },
  15,
);
