/**
 * The syslog sender of the benchmarks: the same sender for every system compared, run in its own
 * process (`node --import tsx syslog-blaster.ts '<json options>'`, pinned by the caller). Sends
 * realistic lines (sshd, sudo, Cisco IOS, iptables, RFC 5424 application messages from 50 hosts)
 * over TCP with LF framing (RFC 6587 §3.4.2) on a few connections as fast as the receiver reads
 * them, or over UDP (RFC 5426, one message per datagram) at a paced rate. Stops after `count`
 * messages or `seconds`, whichever comes first, and prints `{"sent","startMs","endMs"}` (epoch ms).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { syslogLines } from './syslog-lines.ts';

export interface BlastOptions {
  transport: 'tcp' | 'udp';
  port: number;
  count: number;
  seconds: number;
  /** UDP only: messages per second offered. */
  rate?: number;
  connections?: number;
}

export interface BlastResult {
  sent: number;
  startMs: number;
  endMs: number;
}

export async function blast(options: BlastOptions): Promise<BlastResult> {
  const lines = syslogLines(1000);
  const deadline = () => performance.now() - started > options.seconds * 1000;
  let started = performance.now();
  let sent = 0;
  if (options.transport === 'tcp') {
    const sockets = await Promise.all(
      Array.from(
        { length: options.connections ?? 4 },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect(options.port, '127.0.0.1', () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    // 200 lines per write: the framing is per line, the syscall cost is not what is compared.
    const chunks = Array.from({ length: 5 }, (_, c) => lines.slice(c * 200, c * 200 + 200).join(''));
    started = performance.now();
    const startMs = Date.now();
    await Promise.all(
      sockets.map(async (socket, k) => {
        for (let c = k; ; c += 1) {
          if (sent >= options.count || deadline()) break;
          const n = Math.min(200, options.count - sent);
          sent += n;
          const chunk = n === 200 ? chunks[c % 5]! : lines.slice(0, n).join('');
          if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
        }
        await new Promise<void>((resolve) => socket.end(resolve));
      }),
    );
    return { sent, startMs, endMs: Date.now() };
  }
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.connect(options.port, '127.0.0.1', resolve));
  const datagrams = lines.map((l) => Buffer.from(l.slice(0, -1)));
  const rate = options.rate ?? 10_000;
  started = performance.now();
  const startMs = Date.now();
  let pending = 0;
  while (sent < options.count && !deadline()) {
    const due = Math.min(options.count, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) {
      pending += 1;
      socket.send(datagrams[sent % datagrams.length]!, () => {
        pending -= 1;
      });
      sent += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  while (pending > 0) await new Promise((resolve) => setImmediate(resolve));
  socket.close();
  return { sent, startMs, endMs: Date.now() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await blast(JSON.parse(process.argv[2] ?? '{}') as BlastOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
