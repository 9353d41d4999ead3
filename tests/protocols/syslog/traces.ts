/**
 * Helpers for the trace tests: turn a capture into syslog frames (UDP datagrams as they are, TCP
 * streams reassembled and deframed per RFC 6587), and read the ground truth other tools wrote
 * (Zeek logs, tshark `-T fields` CSVs).
 */
import { readFileSync } from 'node:fs';
import {
  decodePacket,
  readCapture,
  reassembleTcp,
  type TcpSegmentInput,
} from '../../../protocols/pcap/index.ts';
import {
  createSyslogDeframer,
  type FramingError,
  type SyslogMessage,
} from '../../../protocols/syslog/index.ts';

export interface SyslogFrame {
  proto: 'udp' | 'tcp';
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** 1-based capture frame number (UDP only). */
  frame?: number;
  ts: Date | undefined;
  bytes: Uint8Array;
}

/** Every syslog frame in a capture, in capture order for UDP, then per TCP stream. */
export function syslogFrames(
  file: string,
  maxFrameBytes = 65_536,
): { frames: SyslogFrame[]; errors: FramingError[] } {
  const capture = readCapture(readFileSync(file));
  if (capture.errors.length > 0) throw new Error(`capture errors: ${JSON.stringify(capture.errors)}`);
  const frames: SyslogFrame[] = [];
  const tcp: TcpSegmentInput[] = [];
  capture.packets.forEach((p, i) => {
    const d = decodePacket(p.linkType, p.data);
    if (!d.ok) return;
    if (d.packet.proto === 'tcp') tcp.push({ ...d.packet, ts: p.ts });
    else {
      const { src, srcPort, dst, dstPort, payload } = d.packet;
      frames.push({ proto: 'udp', src, srcPort, dst, dstPort, frame: i + 1, ts: p.ts, bytes: payload });
    }
  });
  const errors: FramingError[] = [];
  for (const s of reassembleTcp(tcp)) {
    if (s.data.length === 0) continue;
    const deframer = createSyslogDeframer({ maxFrameBytes });
    for (const r of [deframer.push(s.data), deframer.end()]) {
      errors.push(...r.errors);
      for (const bytes of r.frames) {
        frames.push({
          proto: 'tcp',
          src: s.src,
          srcPort: s.srcPort,
          dst: s.dst,
          dstPort: s.dstPort,
          ts: s.segments[0]?.ts,
          bytes,
        });
      }
    }
  }
  return { frames, errors };
}

/** The text after the PRI rebuilt from the parsed fields (single SPs between them). */
export function afterPri(m: SyslogMessage): string {
  const head = [m.timestampText, m.hostname, m.tag].filter((x): x is string => x !== null).join(' ');
  if (head === '') return m.msg;
  return m.msg === '' ? head : `${head} ${m.msg}`;
}

/** Zeek ASCII log rows as objects; the header is the `#fields` line or the first data line. */
export function readZeekLog(file: string): Array<Record<string, string>> {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  let header: string[] | undefined = lines
    .find((l) => l.startsWith('#fields\t'))
    ?.split('\t')
    .slice(1);
  const rows: Array<Record<string, string>> = [];
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const cells = line.split('\t');
    if (!header) {
      header = cells;
      continue;
    }
    rows.push(Object.fromEntries(header.map((h, i) => [h, unescapeZeek(cells[i] ?? '')])));
  }
  return rows;
}

/** Zeek writes non-printable bytes as `\xHH`. */
function unescapeZeek(value: string): string {
  return value.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/**
 * tshark `-T fields -E separator=, -E quote=d` output: every non-empty field quoted, quotes
 * inside values not doubled, newlines written as `\n`. The last column may contain anything.
 */
export function readTsharkCsv(file: string): Array<Record<string, string>> {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const header = lines[0]!.split(',');
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    let rest = line;
    header.forEach((name, i) => {
      let value: string;
      if (i === header.length - 1) {
        value = rest.startsWith('"') ? rest.slice(1, -1) : rest;
      } else if (rest.startsWith('"')) {
        const end = rest.indexOf('",');
        value = rest.slice(1, end);
        rest = rest.slice(end + 2);
      } else {
        const end = rest.indexOf(',');
        value = rest.slice(0, end);
        rest = rest.slice(end + 1);
      }
      row[name] = value.replace(/\\n/g, '\n');
    });
    return row;
  });
}
