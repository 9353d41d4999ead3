/**
 * Store-and-forward benchmark (issue: store-and-forward). In one run, on this machine:
 * - LevelDB's raw rate, batch writes and a full read, with the same packing the queue uses;
 * - the real `siem-gateway run` process pinned to core 0 (`taskset -c 0`) draining a backlog
 *   built while central was down, with live TCP syslog input continuing, into central on
 *   PostgreSQL: drain rate, time from reconnect to the first alert stored, and the gateway's peak
 *   RSS — for two backlog sizes, to show that memory does not grow with the backlog — and how busy
 *   the gateway's core was while draining;
 * - PostgreSQL's raw COPY of the same rows into `events`: the storage ceiling of any drain here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LevelQueue } from '../../gateway/queue/leveldb-queue.ts';
import type { Event, PendingEvent } from '../../protocols/event/schema.ts';
import { waitFor, freePort } from '../support/env.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { startTestCentral } from '../support/stack.ts';
import { buildGatewayBundle, gatewayCommand, gatewayEnv } from './support/gateway-process.ts';
import { cpuSeconds, memoryMb, track, trackDir } from './support/procs.ts';
import { rawCopyRate } from './support/raw-copy.ts';
import { queuedEvents } from '../support/gateway-metrics.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'store-and-forward';

/**
 * glibc gives each LevelDB worker thread its own malloc arena, which fragments and makes RSS
 * creep with the amount of data moved; two arenas keep it flat (the systemd unit sets the same).
 * BENCH_MALLOC_ARENA_MAX tries another number.
 */
const ARENAS = { MALLOC_ARENA_MAX: process.env.BENCH_MALLOC_ARENA_MAX ?? '2' };

const PER_RECORD = 200;

function event(i: number, kind: PendingEvent['kind'] = 'telemetry'): PendingEvent {
  const now = new Date().toISOString();
  return {
    ts: now,
    received: now,
    time_source: 'gateway',
    source: 'syslog',
    kind,
    action: 'syslog.message',
    severity: kind === 'alert' ? 2 : 6,
    message: `backlog ${kind} ${i} Interface Gi1/0/7 changed state to up`,
    host: 'sw-line2-01',
    fields: { facility: 23, app_name: 'ifmgr' },
    tags: [],
  };
}

async function rawLevel(count: number): Promise<{ write: number; read: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-level-'));
  const db = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
  await db.open();
  const sample = Array.from({ length: PER_RECORD }, (_, i) => ({
    v: 1,
    id: `g:${i}`,
    gateway: 'g',
    seq: i,
    ...event(i),
  }));
  const value = JSON.stringify(sample);
  let started = performance.now();
  for (let i = 0; i < count / PER_RECORD; i += 8) {
    const ops = Array.from({ length: 8 }, (_, j) => ({
      type: 'put' as const,
      key: `q!2!${String(i + j).padStart(16, '0')}`,
      value,
    }));
    await db.batch(ops, { sync: false });
  }
  const write = count / ((performance.now() - started) / 1000);
  started = performance.now();
  let read = 0;
  for await (const [, v] of db.iterator()) read += (JSON.parse(v) as unknown[]).length;
  const readRate = read / ((performance.now() - started) / 1000);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return { write, read: readRate };
}

async function drain(backlog: number, dbUrl: string) {
  // Removed at exit even when the benchmark fails (support/procs.ts).
  const dir = trackDir(mkdtempSync(path.join(tmpdir(), 'bench-gw-'))).dir;
  const gatewayId = `gw-bench-${backlog}`;
  // Central first, only to enroll; then it goes away, as during a WAN outage.
  let c = await startTestCentral({ type: 'postgres', url: dbUrl }, { gatewayId });
  const centralPort = new URL(c.central.url()).port;
  await c.enroll(gatewayId, path.join(dir, 'credentials.json'));
  const privateKey = c.privateKey;
  await c.central.stop();

  // The backlog, written through the gateway's own queue: telemetry first, the alerts last (newest).
  const queue = await LevelQueue.open({
    dir: path.join(dir, 'queue'),
    gateway: gatewayId,
    maxRecordEvents: PER_RECORD,
    flushIntervalMs: 0,
    sync: false,
  });
  for (let i = 0; i < backlog; i += 5000)
    await queue.append(Array.from({ length: 5000 }, (_, j) => event(i + j)));
  await queue.append(Array.from({ length: 10 }, (_, j) => event(j, 'alert')));
  await queue.close();

  const syslogPort = await freePort();
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    [
      `gateway: { id: ${gatewayId}, data_dir: ${dir} }`,
      `sources: { tcp: { type: syslog, mode: tcp, listen: "127.0.0.1:${syslogPort}" } }`,
      `central: { endpoint: "ws://127.0.0.1:${centralPort}/link", initial_backoff_secs: 0.05, max_backoff_secs: 0.1, batch_max_events: 5000, max_in_flight_batches: 4 }`,
      'queue: { max_size_bytes: 0 }',
      'http: { listen: "127.0.0.1:0" }',
      'log: { level: error }',
    ].join('\n'),
  );
  const [command, ...args] = gatewayCommand(config, { cpu: 0 });
  const child: ChildProcess = track(
    spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...gatewayEnv(), ...ARENAS } }),
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  const httpUrl = await waitFor(() => /http: (http:\/\/\S+)\/healthz/.exec(out)?.[1], { timeoutMs: 60_000 });
  const pid = child.pid!;

  // Live input keeps arriving during the drain: ~1,000 syslog events/s over TCP.
  const live = net.connect(syslogPort, '127.0.0.1');
  let liveSent = 0;
  const liveTimer = setInterval(() => {
    for (let i = 0; i < 100; i += 1)
      live.write(`<14>1 ${new Date().toISOString()} plc-1 app - - - live ${liveSent++}\n`);
  }, 100);

  let connectedAt = 0;
  let cpuAtConnect = 0;
  let firstAlertAt = 0;
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, memoryMb(pid, 'VmRSS'));
    } catch {
      // The process is gone; the last sample stands.
    }
  }, 50);
  c = await startTestCentral(
    { type: 'postgres', url: dbUrl },
    {
      listen: `127.0.0.1:${centralPort}`,
      gatewayId,
      privateKey,
      onGatewayConnected: () => {
        if (connectedAt) return;
        connectedAt = performance.now();
        cpuAtConnect = cpuSeconds(pid);
      },
      onStored: (events) => {
        if (!firstAlertAt && events.some((e) => e.kind === 'alert')) firstAlertAt = performance.now();
      },
    },
  );
  await waitFor(() => (connectedAt ? true : undefined), { timeoutMs: 30_000 });
  await waitFor(
    async () => {
      // /metrics is open to monitoring (the API needs a login).
      const queued = await queuedEvents(httpUrl);
      if (process.env.BENCH_DEBUG) {
        const smaps = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
        console.error(queued, /Rss:\s+(\d+)/.exec(smaps)?.[1], /Anonymous:\s+(\d+)/.exec(smaps)?.[1]);
      }
      return queued < 2000 ? true : undefined; // what is left is the live trickle
    },
    { timeoutMs: 600_000, intervalMs: 100 },
  );
  const drainSecs = (performance.now() - connectedAt) / 1000;
  // How busy the gateway's one core was while draining: below 100%, the bound is elsewhere.
  const gatewayCpuShare = (cpuSeconds(pid) - cpuAtConnect) / drainSecs;
  clearInterval(liveTimer);
  clearInterval(rssTimer);
  const hwm = memoryMb(pid, 'VmHWM');
  live.end();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await c.central.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    rate: backlog / drainSecs,
    firstAlertMs: firstAlertAt - connectedAt,
    peakRssMb: Math.max(peakRss, hwm),
    gatewayCpuShare,
  };
}

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  buildGatewayBundle();
  const small = options.quick ? 10_000 : 250_000;
  const large = options.quick ? 30_000 : 1_000_000;
  const raw = await rawLevel(large);
  const db = await createTempDatabase();
  if (!('url' in db)) throw new Error(db.error);
  try {
    const a = await drain(small, db.url);
    const b = await drain(large, db.url);
    // What PostgreSQL itself can store here: the same rows COPYed straight into `events`, with
    // every index the migrations create, on the same two cores. No drain can be faster.
    const copyRows = Array.from({ length: options.quick ? 20_000 : 300_000 }, (_, i) => ({
      v: 1 as const,
      id: `gw-raw-copy:${i + 1}`,
      gateway: 'gw-raw-copy',
      seq: i + 1,
      ...event(i),
    }));
    const copyRate = await rawCopyRate(db.url, copyRows as Event[]);
    return [
      {
        name: `drain of a ${large.toLocaleString('en-US')}-event backlog with live input, gateway on one core`,
        value: b.rate,
        unit: 'events/s',
        peer: { name: 'raw LevelDB batch read', value: raw.read },
        target: { value: 30_000, better: 'higher', issue: 3 },
        note: `the gateway's core was ${Math.round(b.gatewayCpuShare * 100)}% busy: storage is the bound, next line`,
      },
      {
        name: 'PostgreSQL raw COPY of the same rows into events, every index (the storage ceiling for any drain on this machine)',
        value: copyRate,
        unit: 'events/s',
        peer: { name: 'the drain above', value: b.rate },
      },
      {
        name: 'raw LevelDB batch write (same packing, no fsync)',
        value: raw.write,
        unit: 'events/s',
        note: 'the ceiling for any LevelDB queue on this disk',
      },
      {
        name: 'reconnect → first alert stored on central (alerts queued behind the backlog)',
        value: b.firstAlertMs,
        unit: 'ms',
        target: { value: 1000, better: 'lower', issue: 3 },
      },
      {
        name: `gateway peak RSS draining ${large.toLocaleString('en-US')} events`,
        value: b.peakRssMb,
        unit: 'MB',
        peer: { name: `draining ${small.toLocaleString('en-US')}`, value: a.peakRssMb },
        target: { value: 150, better: 'lower', issue: 3 },
      },
    ];
  } finally {
    await db.drop();
  }
}
