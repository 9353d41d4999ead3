/**
 * The shipped gateway (the linux-x64 bundle from `npm run build:gateway`, run as its wrapper runs
 * it) pinned to one core with `taskset -c 0`, forwarding to central on PostgreSQL: start-up time
 * to accepting traffic, RSS idle with 50 connected devices, and RSS and CPU at 1,000 and 10,000
 * syslog events/s over TCP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, listening, waitFor } from '../support/env.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { startTestCentral } from '../support/stack.ts';
import type { BenchFigure, BenchOptions } from './types.ts';
import { buildGatewayBundle, gatewayCommand, gatewayEnv } from './support/gateway-process.ts';
import { cpuSeconds, memoryMb } from './support/procs.ts';

export const title = 'gateway footprint';

/** Sends `rate` events/s over `connections` TCP connections for `seconds`; returns peak RSS and CPU share. */
async function load(pid: number, port: number, rate: number, seconds: number) {
  const sockets = await Promise.all(
    Array.from(
      { length: 4 },
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
          // A reset after the run (the gateway closing a connection it still had data for) is
          // not the benchmark's business; a gateway that died is checked by the caller.
          s.on('error', (error) => (s.connecting ? reject(error) : undefined));
        }),
    ),
  );
  let peak = memoryMb(pid, 'VmRSS');
  const cpu0 = cpuSeconds(pid);
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      sockets[sent % 4]!.write(`<14>1 ${new Date().toISOString()} plc-${sent % 50} app - - - load ${sent}\n`);
      sent += 1;
    }
    peak = Math.max(peak, memoryMb(pid, 'VmRSS'));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const cpu = (cpuSeconds(pid) - cpu0) / ((performance.now() - started) / 1000);
  for (const s of sockets) s.end();
  return { peak, cpuPercent: cpu * 100 };
}

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  buildGatewayBundle();
  const db = await createTempDatabase();
  if (!('url' in db)) throw new Error(db.error);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-footprint-'));
  const c = await startTestCentral({ type: 'postgres', url: db.url }, { gatewayId: 'gw-footprint' });
  let child: ChildProcess | undefined;
  try {
    await c.enroll('gw-footprint', path.join(dir, 'credentials.json'));
    const port = await freePort();
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `gateway: { id: gw-footprint, data_dir: ${dir} }`,
        `sources: { tcp: { type: syslog, mode: tcp, listen: "127.0.0.1:${port}" } }`,
        `central: { endpoint: "${c.central.linkUrl()}" }`,
        'http: { listen: "127.0.0.1:0" }',
        'log: { level: error }',
      ].join('\n'),
    );
    const [command, ...args] = gatewayCommand(config, { cpu: 0 });
    const started = performance.now();
    child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env: gatewayEnv() });
    await waitFor(() => listening(port), { timeoutMs: 30_000, intervalMs: 5 });
    const startupMs = performance.now() - started;
    const pid = child.pid!;
    // 50 devices connected, each saying something every few seconds.
    const devices = await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => resolve(s));
            s.on('error', () => undefined);
            s.setNoDelay(true);
            void i;
          }),
      ),
    );
    const chatter = setInterval(() => {
      devices.forEach((s, i) => s.write(`<14>1 ${new Date().toISOString()} dev-${i} app - - - idle hello\n`));
    }, 5000);
    await new Promise((resolve) => setTimeout(resolve, options.quick ? 3000 : 10_000));
    const idleRss = memoryMb(pid, 'VmRSS');
    clearInterval(chatter);
    for (const s of devices) s.end();
    const seconds = options.quick ? 5 : 15;
    const at1k = await load(pid, port, 1000, seconds);
    const at10k = await load(pid, port, 10_000, seconds);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the gateway exited during the load (${child.exitCode ?? child.signalCode})`);
    }
    return [
      {
        name: 'start-up to accepting traffic (bundle, one core)',
        value: startupMs,
        unit: 'ms',
        target: { value: 1000, better: 'lower', issue: 9 },
      },
      {
        name: 'RSS idle with 50 connected devices',
        value: idleRss,
        unit: 'MB',
        target: { value: 80, better: 'lower', issue: 9 },
      },
      {
        name: 'CPU at 1,000 events/s (share of one core)',
        value: at1k.cpuPercent,
        unit: '%',
        target: { value: 25, better: 'lower', issue: 9 },
      },
      { name: 'peak RSS at 1,000 events/s', value: at1k.peak, unit: 'MB' },
      {
        name: 'peak RSS at 10,000 events/s',
        value: at10k.peak,
        unit: 'MB',
        target: { value: 150, better: 'lower', issue: 9 },
      },
      { name: 'CPU at 10,000 events/s (share of one core)', value: at10k.cpuPercent, unit: '%' },
    ];
  } finally {
    child?.kill('SIGTERM');
    if (child) await new Promise((resolve) => child!.once('exit', resolve));
    await c.central.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
