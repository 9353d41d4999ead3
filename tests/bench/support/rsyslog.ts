/**
 * rsyslog (the Debian package) as the peer of the syslog benchmark, started by the benchmark with
 * its own config, work directory and pid file in a temp dir, on loopback ports, never touching
 * the system's rsyslog. It receives on imtcp and imudp and forwards with omfwd over TCP to a sink
 * that counts lines, in one of two setups:
 * - `disk-assisted`: the action queue is in memory and spills to disk when full (a `LinkedList`
 *   queue with `queue.filename`, saved on shutdown): what most sites run;
 * - `sync-disk`: the action queue is a pure `Disk` queue fsynced on every write and checkpoint
 *   (`queue.syncQueueFiles`, `queue.checkpointInterval="1"`) and the main queue is `Direct`, so a
 *   message is on disk before the next one is read: the durability of the gateway's queue.
 * (rsyslog docs: "Queues" and "omfwd"; rsyslog 8.2302.)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, listening, waitFor } from '../../support/env.ts';
import { stopChild, track, trackDir } from './procs.ts';

export type RsyslogSetup = 'disk-assisted' | 'sync-disk';

export interface LineSink {
  port: number;
  /** Lines received so far per input (`tcp`, `udp`), and when the last one arrived (epoch ms). */
  lines(transport: 'tcp' | 'udp'): number;
  lastAt(transport: 'tcp' | 'udp'): number;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A TCP server that counts LF-terminated lines over all its connections, per rsyslog input: each
 * forwarded line starts with the name of the input it came in on (`imtcp ` or `imudp `).
 */
export async function startLineSink(): Promise<LineSink> {
  const counts = { tcp: 0, udp: 0 };
  const last = { tcp: 0, udp: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let tail = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const data = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
      const now = Date.now();
      let start = 0;
      for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
        // "imtcp" and "imudp" differ in their third letter.
        const transport = data[start + 2] === 0x75 ? 'udp' : 'tcp';
        counts[transport] += 1;
        last[transport] = now;
        start = nl + 1;
      }
      tail = Buffer.from(data.subarray(start));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    lines: (t) => counts[t],
    lastAt: (t) => last[t],
    reset() {
      counts.tcp = counts.udp = last.tcp = last.udp = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function config(setup: RsyslogSetup, dir: string, port: number, sinkPort: number): string {
  const queue =
    setup === 'disk-assisted'
      ? 'queue.type="LinkedList" queue.size="100000" queue.filename="fwd" queue.saveOnShutdown="on"'
      : 'queue.type="Disk" queue.filename="fwd" queue.syncQueueFiles="on" queue.checkpointInterval="1"';
  return [
    `global(workDirectory="${dir}/work" maxMessageSize="8k")`,
    // RSYSLOG_ForwardFormat with the input's name in front, so the sink can count per transport.
    'template(name="bench" type="string" string="%inputname% <%PRI%>%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag:1:32%%msg:::sp-if-no-1st-sp%%msg%\\n")',
    setup === 'sync-disk' ? 'main_queue(queue.type="Direct")' : '',
    'module(load="imtcp")',
    'module(load="imudp")',
    `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="fwd")`,
    `input(type="imudp" address="127.0.0.1" port="${port}" ruleset="fwd")`,
    // Only what arrives on the inputs is forwarded; rsyslog's own messages are not counted.
    'ruleset(name="fwd") {',
    `  action(type="omfwd" target="127.0.0.1" port="${sinkPort}" protocol="tcp"`,
    `    template="bench" action.resumeRetryCount="-1" queue.maxDiskSpace="2g" ${queue})`,
    '}',
    '',
  ].join('\n');
}

export interface RsyslogProcess {
  pid: number;
  /** imtcp and imudp both listen here. */
  port: number;
  stop(): Promise<void>;
}

/** Starts rsyslogd in the foreground, pinned with `taskset -c cpu`, forwarding to `sinkPort`. */
export async function startRsyslog(
  setup: RsyslogSetup,
  sinkPort: number,
  cpu: number,
): Promise<RsyslogProcess> {
  const { dir, cleanup } = trackDir(mkdtempSync(path.join(tmpdir(), 'bench-rsyslog-')));
  mkdirSync(path.join(dir, 'work'));
  const port = await freePort();
  const file = path.join(dir, 'rsyslog.conf');
  writeFileSync(file, config(setup, dir, port, sinkPort));
  const child = track(
    spawn(
      'taskset',
      ['-c', String(cpu), 'rsyslogd', '-n', '-f', file, '-i', path.join(dir, 'rsyslogd.pid')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    ),
  );
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}: ${err}`);
        return listening(port);
      },
      { timeoutMs: 20_000, what: 'rsyslogd to listen' },
    );
  } catch (error) {
    await stopChild(child);
    cleanup();
    throw error;
  }
  return {
    pid: child.pid!,
    port,
    async stop() {
      await stopChild(child, 10_000);
      cleanup();
    },
  };
}
