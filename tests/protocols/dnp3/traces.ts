/**
 * Helpers for the DNP3 ground-truth tests: a capture decoded frame by frame through the project's
 * own pcap reader, incremental TCP reassembly and DNP3 session (one session per connection, as a
 * capture source would run it), and Zeek's dnp3.log transactions rebuilt from what we decoded.
 */
import { readFileSync } from 'node:fs';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  createDnp3Session,
  type Dnp3Session,
  type Dnp3SessionItem,
  dnp3ItemToEvent,
  FUNCTION_NAMES,
} from '../../../protocols/dnp3/index.ts';
import { createTcpStreamTracker, decodePacket, readCapture } from '../../../protocols/pcap/index.ts';

export interface FrameMeta {
  frame: number;
  ts: Date;
}

export interface DecodedItem {
  /** `a:port>b:port` of the connection, initiator first (UDP: the datagram's flow). */
  conn: string;
  /** Source of the direction that carried it. */
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  item: Dnp3SessionItem<FrameMeta>;
}

export function decodeDnp3Capture(file: string, ports: number[] = [20000]): DecodedItem[] {
  const capture = readCapture(readFileSync(file));
  const tcp = createTcpStreamTracker<FrameMeta>();
  const sessions = new Map<string, Dnp3Session<FrameMeta>>();
  const out: DecodedItem[] = [];
  const isPort = (p: number) => ports.includes(p);
  const sessionOf = (conn: string) => {
    let s = sessions.get(conn);
    if (!s) sessions.set(conn, (s = createDnp3Session<FrameMeta>()));
    return s;
  };
  const connKey = (src: string, sp: number, dst: string, dp: number) =>
    isPort(dp) && !(isPort(sp) && `${src}:${sp}` > `${dst}:${dp}`)
      ? `${src}:${sp}>${dst}:${dp}`
      : `${dst}:${dp}>${src}:${sp}`;
  capture.packets.forEach((p, i) => {
    const meta = { frame: i + 1, ts: p.ts };
    const d = decodePacket(p.linkType, p.data);
    if (!d.ok) return;
    const pk = d.packet;
    if (!isPort(pk.srcPort) && !isPort(pk.dstPort)) return;
    if (pk.proto === 'udp') {
      const conn = connKey(pk.src, pk.srcPort, pk.dst, pk.dstPort);
      for (const item of sessionOf(conn).datagram(pk.payload, meta))
        out.push({ conn, src: pk.src, srcPort: pk.srcPort, dst: pk.dst, dstPort: pk.dstPort, item });
      return;
    }
    for (const chunk of tcp.push(pk, meta)) {
      const f = chunk.flow;
      const conn = connKey(f.src, f.srcPort, f.dst, f.dstPort);
      for (const item of sessionOf(conn).push(chunk.key, chunk.data, chunk.meta, chunk.gap))
        out.push({ conn, src: f.src, srcPort: f.srcPort, dst: f.dst, dstPort: f.dstPort, item });
    }
  });
  return out;
}

/** Every decoded item as the event a capture source would emit (link-only frames give none). */
export function captureEvents(items: DecodedItem[], transport: 'tcp' | 'udp' = 'tcp'): PendingEvent[] {
  const out: PendingEvent[] = [];
  for (const d of items) {
    const e = dnp3ItemToEvent(d.item, {
      received: d.item.meta.ts,
      transport,
      src: { ip: d.src, port: d.srcPort },
      dst: { ip: d.dst, port: d.dstPort },
    });
    if (e) out.push(e);
  }
  return out;
}

export interface ZeekTransaction {
  conn: string;
  fc_request: string;
  fc_reply: string;
  iin: string;
}

const upper = (fc: number) => {
  const n = FUNCTION_NAMES[fc];
  const zeek: Record<string, string> = {
    initialize_application: 'INITIALIZE_APPL',
    start_application: 'START_APPL',
    stop_application: 'STOP_APPL',
    save_configuration: 'SAVE_CONFIG',
    immediate_freeze: 'IMMED_FREEZE',
    immediate_freeze_nr: 'IMMED_FREEZE_NR',
  };
  return n ? (zeek[n] ?? n.toUpperCase()) : `unknown-${fc}`;
};

/**
 * Zeek's dnp3.log (scripts/base/protocols/dnp3/main.zeek): a request remembers its function; each
 * response writes one row with the last request's function (or `-`), then forgets it; a request
 * still unanswered when the connection ends is written with `-` for the reply.
 */
export function zeekTransactions(items: DecodedItem[]): ZeekTransaction[] {
  const rows: ZeekTransaction[] = [];
  const last = new Map<string, string>();
  const conns: string[] = [];
  for (const { conn, item } of items) {
    if (!conns.includes(conn)) conns.push(conn);
    if (item.type !== 'apdu') continue;
    const a = item.apdu;
    if (a.direction === 'request') last.set(conn, upper(a.function));
    else {
      rows.push({ conn, fc_request: last.get(conn) ?? '-', fc_reply: upper(a.function), iin: String(a.iin) });
      last.delete(conn);
    }
  }
  for (const conn of conns) {
    const fc = last.get(conn);
    if (fc) rows.push({ conn, fc_request: fc, fc_reply: '-', iin: '-' });
  }
  return rows;
}
