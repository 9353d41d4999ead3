/**
 * Gateway CPU per million TCP syslog events, alone (issue 18 ask 3): a test central on PostgreSQL,
 * the bundled gateway with the syslog-path bench's config pinned to core 1, the blaster on core 0.
 * `node --import tsx tests/bench/support/syslog-cpu.ts [count]`; BENCH_CPU_PROF=<dir> also writes
 * the gateway's CPU profile; BENCH_PIPELINE='pipeline: { stages: [...] }' replaces the pipeline
 * and BENCH_RULES=<dir> the rules (what one stage or rule kind costs). Prints CPU seconds per
 * million delivered events.
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, waitFor } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { startTestCentral } from '../../support/stack.ts';
import { startGatewayProcess } from './gateway-process.ts';
import { cpuSeconds, memoryMb, runSupportScript } from './procs.ts';
import type { BlastOptions, BlastResult } from './syslog-blaster.ts';

/** CPU seconds of a process's main thread and of its other threads (V8's, libuv's, LevelDB's): where the time goes besides the main thread. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [user, system] = [Number(f[11]) / 100, Number(f[12]) / 100];
      if (!process.env.BENCH_THREADS) {
        const name = tid === String(pid) ? 'main' : 'other threads';
        out.set(name, (out.get(name) ?? 0) + user + system);
        continue;
      }
      // BENCH_THREADS=1: each thread by name and id (V8's GC helpers, libuv's pool that runs
      // LevelDB's calls and fsyncs, LevelDB's compaction), user and system time apart.
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const name = tid === String(pid) ? 'main' : `${comm}:${tid}`;
      out.set(`${name} user`, user);
      out.set(`${name} system`, system);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The sender in its own process, pinned to its core (support/syslog-blaster.ts). */
const runBlaster = (options: BlastOptions) =>
  runSupportScript<BlastResult>('syslog-blaster.ts', options, { what: 'syslog blaster', cpu: 0 });

const count = Number(process.argv[2] ?? 200_000);
const db = await createTempDatabase();
if ('error' in db) throw new Error(db.error);
const gatewayId = 'gw-syslog-cpu';
let delivered = 0;
const c = await startTestCentral(
  { type: 'postgres', url: db.url },
  {
    gatewayId: 'gw-unused',
    onStored: (events) => {
      for (const e of events) if (e.gateway === gatewayId && e.source === 'syslog') delivered += 1;
    },
  },
);
const gw = await startGatewayProcess(c, gatewayId, {
  cpu: 1,
  config: [
    'sources:',
    '  tcp: { type: syslog, mode: tcp, listen: "127.0.0.1:0" }',
    `detection: { rules_dirs: ["${process.env.BENCH_RULES ?? path.join(REPO_ROOT, 'rules', 'ics')}"] }`,
    process.env.BENCH_PIPELINE ??
      'pipeline: { stages: [{ type: normalise }, { type: inventory }, { type: baselines }, { type: detect }] }',
  ],
});
// BENCH_GATEWAY_STDOUT=<file>: the gateway's stdout there (e.g. with BENCH_GATEWAY_FLAGS=--trace-gc).
if (process.env.BENCH_GATEWAY_STDOUT) {
  const file = process.env.BENCH_GATEWAY_STDOUT;
  gw.child.stdout?.on('data', (d: Buffer) => appendFileSync(file, d));
}
try {
  const port = gw.ports.tcp!.tcp!;
  const warm = await runBlaster({ transport: 'tcp', port, count: 2000, seconds: 30 });
  await waitFor(() => (delivered >= warm.sent ? true : undefined), { timeoutMs: 120_000, what: 'warm-up' });
  delivered = 0;
  const cpu0 = cpuSeconds(gw.pid);
  const threads0 = threadCpu(gw.pid);
  const t0 = Date.now();
  const sent = await runBlaster({ transport: 'tcp', port, count, seconds: 600 });
  await waitFor(() => (delivered >= sent.sent ? true : undefined), { timeoutMs: 600_000, what: 'delivery' });
  const cpu = cpuSeconds(gw.pid) - cpu0;
  const secs = (Date.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      sent: sent.sent,
      delivered,
      cpuPerMillion: +((cpu / delivered) * 1e6).toFixed(1),
      rate: Math.round(delivered / secs),
      rssMb: memoryMb(gw.pid, 'VmHWM'),
      perMillionByThread: Object.fromEntries(
        [...threadCpu(gw.pid)].map(([k, v]) => [
          k,
          +(((v - (threads0.get(k) ?? 0)) / delivered) * 1e6).toFixed(1),
        ]),
      ),
    }),
  );
} finally {
  await gw.stop();
  await c.central.stop();
  await db.drop();
}
