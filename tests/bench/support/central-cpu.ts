/**
 * Central's CPU per event on the link ingest path, alone (issue 18 ask 1): central runs in this
 * process on a temp PostgreSQL database with its default config (as in central.bench.ts), and the
 * gateway side (support/link-sender.ts, the central bench's batches of 5000, 4 in flight) runs in
 * a child process, so this process's CPU is central's only. Each round sends `count` new events
 * of a newly enrolled gateway and reads, from the first batch sent to the last ack plus a
 * settling half second (the after-commit steps), the CPU of central's main thread
 * (/proc/self/task/<pid>/stat) and of the whole process (process.cpuUsage: GC helpers included).
 * `node --import tsx tests/bench/support/central-cpu.ts [count] [rounds]`; CENTRAL_CPU_PROF=<file>
 * also writes a CPU profile of the last round (node:inspector, the ingest only).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTempDatabase } from '../../support/postgres.ts';
import { startTestCentral } from '../../support/stack.ts';
import { type LinkSendOptions, type LinkSendResult, sendThroughLink } from './link-sender.ts';
import { track } from './procs.ts';

/** CPU seconds of this process's main thread (proc(5): utime + stime, fields 14 and 15). */
function mainThreadCpu(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function processCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The gateway side in a child process (this file with `send`), so its CPU is not central's. */
async function sendFromChild(options: LinkSendOptions): Promise<LinkSendResult> {
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', import.meta.filename, 'send', JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`link sender exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as LinkSendResult;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000);
  const rounds = Number(process.argv[3] ?? 3);
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  const c = await startTestCentral({ type: 'postgres', url: db.url }, { gatewayId: 'cpu-gw-0' });
  const profile = process.env.CENTRAL_CPU_PROF;
  try {
    for (let round = 1; round <= rounds; round++) {
      const gateway = `cpu-gw-${round}`;
      const privateKey = await c.enroll(gateway);
      const session = profile && round === rounds ? new Session() : undefined;
      if (session) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 500 });
        await session.post('Profiler.start');
      }
      const main0 = mainThreadCpu();
      const all0 = processCpu();
      const sent = await sendFromChild({
        url: c.central.linkUrl(),
        gateway,
        privateKey,
        count,
        end: Date.now(),
        batch: 5000,
        inFlight: 4,
      });
      await sleep(500);
      const mainUs = ((mainThreadCpu() - main0) / count) * 1e6;
      const allUs = ((processCpu() - all0) / count) * 1e6;
      if (session) {
        const { profile: cpuProfile } = await session.post('Profiler.stop');
        writeFileSync(profile!, JSON.stringify(cpuProfile));
        session.disconnect();
      }
      if (sent.inserted !== count) throw new Error(`stored ${sent.inserted} of ${count}`);
      console.log(
        JSON.stringify({
          round,
          count,
          mainUsPerEvent: Number(mainUs.toFixed(1)),
          processUsPerEvent: Number(allUs.toFixed(1)),
          seconds: Number(sent.seconds.toFixed(2)),
          load: Number(loadavg()[0]!.toFixed(1)),
        }),
      );
    }
  } finally {
    await c.central.stop();
    await db.drop();
  }
}

if (process.argv[2] === 'send') {
  const result = await sendThroughLink(JSON.parse(process.argv[3]!) as LinkSendOptions);
  console.log(JSON.stringify(result));
  process.exit(0);
} else {
  await main();
  process.exit(0);
}
