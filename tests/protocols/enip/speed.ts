/**
 * Decode speed on the largest EtherNet/IP trace (icsnpp enip_cip_example.pcap, 667 EtherNet/IP
 * frames): the codec alone (decodeEncap / decodeIo on the frames' payloads) and the whole capture
 * path (pcap frame decode, TCP reassembly, session pairing, mapping to events). Run with
 * `npx tsx tests/protocols/enip/speed.ts [seconds]`; prints frames per second for each.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CIP_IO_PORT, decodeEncap, decodeIo } from '../../../protocols/enip/index.ts';
import { decodePacket, readCapture } from '../../../protocols/pcap/index.ts';
import { SHARED_DATA } from '../../support/env.ts';
import { readEnipTrace } from './trace.ts';

const file = path.join(SHARED_DATA, 'enip', 'icsnpp', 'enip_cip_example.pcap');
const seconds = Number(process.argv[2] ?? 3);

const payloads: Array<{ io: boolean; bytes: Uint8Array }> = [];
for (const p of readCapture(readFileSync(file)).packets) {
  const d = decodePacket(p.linkType, p.data);
  if (!d.ok || d.packet.payload.length === 0) continue;
  const io =
    d.packet.proto === 'udp' && (d.packet.dstPort === CIP_IO_PORT || d.packet.srcPort === CIP_IO_PORT);
  if (io || d.packet.dstPort === 44818 || d.packet.srcPort === 44818)
    payloads.push({ io, bytes: d.packet.payload });
}

function measure(name: string, frames: number, run: () => void): void {
  run();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    run();
    n += frames;
  }
  const rate = Math.round(n / ((performance.now() - t0) / 1000));
  console.log(`${name}: ${rate.toLocaleString('en')} frames/s`);
}

measure(`codec (${payloads.length} EtherNet/IP frames)`, payloads.length, () => {
  for (const p of payloads) (p.io ? decodeIo : decodeEncap)(p.bytes);
});
const frames = readEnipTrace(file, false).decodes.length;
measure(`capture path without events (${frames} frames)`, frames, () => readEnipTrace(file, false));
measure(`capture path with events (${frames} frames)`, frames, () => readEnipTrace(file, true));
