/**
 * Reads an S7comm capture the way the gateway's capture source would (protocols/pcap: frame
 * decoding, incremental TCP reassembly; one S7comm session per connection to TCP 102) and keeps
 * what each frame decoded to, for the ground-truth tests against tshark and Zeek/ICSNPP.
 */
import { readFileSync } from 'node:fs';
import { createTcpStreamTracker, decodePacket, readCapture } from '../../../protocols/pcap/index.ts';
import {
  createS7commSession,
  type S7commSession,
  type S7FramingError,
  type S7Message,
  S7COMM_PORT,
} from '../../../protocols/s7comm/index.ts';

export interface DecodedTrace {
  /** Messages by the frame (1-based, as tshark numbers them) that completed them. */
  byFrame: Map<number, S7Message<number>[]>;
  messages: S7Message<number>[];
  errors: Array<S7FramingError & { frame: number }>;
  sessions: Map<string, S7commSession<number>>;
  frames: number;
  /** Per connection key `client|port`, the client and server. */
  peers: Map<string, { client: { ip: string; port: number }; server: { ip: string; port: number } }>;
  /** For each message, the key of its connection. */
  connOf: Map<S7Message<number>, string>;
  times: Map<number, Date>;
}

export function decodeTrace(file: string): DecodedTrace {
  const cap = readCapture(readFileSync(file));
  const tcp = createTcpStreamTracker<number>({ maxPendingBytes: 0 });
  const out: DecodedTrace = {
    byFrame: new Map(),
    messages: [],
    errors: [],
    sessions: new Map(),
    frames: cap.packets.length,
    peers: new Map(),
    connOf: new Map(),
    times: new Map(),
  };
  cap.packets.forEach((p, i) => {
    const frame = i + 1;
    out.times.set(frame, p.ts);
    const d = decodePacket(p.linkType, p.data);
    if (!d.ok) return;
    for (const c of tcp.push(d.packet, frame)) {
      const { flow } = c;
      const direction = flow.dstPort === S7COMM_PORT ? 'request' : 'response';
      if (direction === 'response' && flow.srcPort !== S7COMM_PORT) continue;
      const client =
        direction === 'request' ? { ip: flow.src, port: flow.srcPort } : { ip: flow.dst, port: flow.dstPort };
      const server =
        direction === 'request' ? { ip: flow.dst, port: flow.dstPort } : { ip: flow.src, port: flow.srcPort };
      const key = `${client.ip}|${client.port}|${server.ip}`;
      let s = out.sessions.get(key);
      if (!s) {
        s = createS7commSession<number>();
        out.sessions.set(key, s);
        out.peers.set(key, { client, server });
      }
      const r = s.push(direction, c.data, c.meta, c.gap);
      for (const e of r.errors) out.errors.push({ ...e, frame: c.meta });
      for (const m of r.messages) {
        const list = out.byFrame.get(m.meta) ?? [];
        list.push(m);
        out.byFrame.set(m.meta, list);
        out.messages.push(m);
        out.connOf.set(m, key);
      }
    }
  });
  return out;
}

/** A Zeek TSV log with its `#fields` header, as records. */
export function readZeekLog(file: string): Array<Record<string, string>> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const header =
    lines
      .find((l) => l.startsWith('#fields'))
      ?.split('\t')
      .slice(1) ?? [];
  return lines
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const cells = l.split('\t');
      return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
    });
}

/** How many of `expected` have an equal key in `actual` (multiset intersection). */
export function agreeing(
  expected: string[],
  actual: string[],
): { agree: number; missing: string[]; extra: string[] } {
  const left = new Map<string, number>();
  for (const k of actual) left.set(k, (left.get(k) ?? 0) + 1);
  const missing: string[] = [];
  let agree = 0;
  for (const k of expected) {
    const n = left.get(k) ?? 0;
    if (n > 0) {
      agree++;
      left.set(k, n - 1);
    } else missing.push(k);
  }
  const extra = [...left].flatMap(([k, n]) => Array<string>(n).fill(k));
  return { agree, missing, extra };
}
