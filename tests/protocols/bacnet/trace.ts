/**
 * Reads a BACnet capture for the ground-truth tests: every frame of the file with its number,
 * time, addresses and the codec's result, BACnet/IP datagrams through `decodeBacnetIp` and
 * Ethernet 802.3 frames carrying 802.2 LLC (BACnet/Ethernet, clause 7) through `decodeBacnetLlc`.
 * Frames that are neither are left out, as tshark's `bvlc || bacnet` filter leaves them out.
 */
import { readFileSync } from 'node:fs';
import {
  type BacnetError,
  type BacnetFrame,
  decodeBacnetIp,
  decodeBacnetLlc,
} from '../../../protocols/bacnet/index.ts';
import { decodePacket, LINKTYPE, readCapture } from '../../../protocols/pcap/index.ts';

export interface TraceFrame {
  number: number;
  ts: Date;
  /** `ip` for UDP datagrams, `llc` for BACnet/Ethernet. */
  link: 'ip' | 'llc';
  src?: string;
  srcPort?: number;
  dst?: string;
  dstPort?: number;
  payload: Uint8Array;
  result: { ok: true; value: BacnetFrame } | { ok: false; error: BacnetError };
}

export function readTrace(file: string, ports = new Set([47808])): TraceFrame[] {
  const capture = readCapture(readFileSync(file));
  const out: TraceFrame[] = [];
  capture.packets.forEach((p, i) => {
    const number = i + 1;
    const d = decodePacket(p.linkType, p.data);
    if (d.ok) {
      const { packet } = d;
      if (packet.proto !== 'udp' || !(ports.has(packet.srcPort) || ports.has(packet.dstPort))) return;
      out.push({
        number,
        ts: p.ts,
        link: 'ip',
        src: packet.src,
        srcPort: packet.srcPort,
        dst: packet.dst,
        dstPort: packet.dstPort,
        payload: packet.payload,
        result: decodeBacnetIp(packet.payload),
      });
      return;
    }
    // IEEE 802.3 with a length, not an EtherType, then 802.2 LLC with the BACnet SAP.
    if (p.linkType !== LINKTYPE.ETHERNET || p.data.length < 17) return;
    const len = (p.data[12]! << 8) | p.data[13]!;
    if (len > 1500 || p.data[14] !== 0x82) return;
    const payload = p.data.subarray(14, Math.min(p.data.length, 14 + len));
    out.push({ number, ts: p.ts, link: 'llc', payload, result: decodeBacnetLlc(payload) });
  });
  return out;
}
