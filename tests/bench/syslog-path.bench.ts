/**
 * The gateway's syslog path against rsyslog (issue 10 §1), same sender, same core budget. The
 * system under test is pinned to core 1 (`taskset -c 1`); the sender (support/syslog-blaster.ts)
 * runs in its own process on core 0, next to central, PostgreSQL and the counting sink.
 * - ours: TCP and UDP syslog in → decoded → the shipped rules (rules/ics) → durable LevelDB queue
 *   (fsync, the default) → forwarded to central on the real PostgreSQL; an event counts as
 *   delivered once central has committed it (and acked it);
 * - rsyslog (a) forwarding through a disk-assisted queue with omfwd over TCP to a counting sink;
 * - rsyslog (b) the same with a fully synchronous disk queue: the durability of ours.
 * TCP: as fast as the receiver reads, up to a count or a time box. UDP: a paced offered rate.
 * Reported per system and transport: events/s end to end (sent → delivered), CPU seconds per
 * million events (utime + stime from /proc/<pid>/stat), peak RSS (VmHWM) and events lost.
 */
import path from 'node:path';
import { hasTool, REPO_ROOT, waitFor } from '../support/env.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { startTestCentral } from '../support/stack.ts';
import { startGatewayProcess } from './support/gateway-process.ts';
import { cpuSeconds, memoryMb, runSupportScript } from './support/procs.ts';
import { startLineSink, startRsyslog } from './support/rsyslog.ts';
import type { BlastOptions, BlastResult } from './support/syslog-blaster.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'syslog path';

/** The core the system under test gets; the sender and the sinks use the other one. */
const SUT_CPU = 1;
const SENDER_CPU = 0;

interface SystemUnderTest {
  name: string;
  pid: number;
  port(transport: 'tcp' | 'udp'): number;
  delivered(transport: 'tcp' | 'udp'): number;
  lastAt(transport: 'tcp' | 'udp'): number;
  reset(): void;
  stop(): Promise<void>;
}

interface Measured {
  rate: number;
  cpuPerMillion: number;
  sent: number;
  delivered: number;
  lost: number;
  /** Still queued when the drain deadline passed (not lost, not delivered). */
  pending: number;
}

/** The sender in its own process, pinned to its core (support/syslog-blaster.ts). */
const runBlaster = (options: BlastOptions) =>
  runSupportScript<BlastResult>('syslog-blaster.ts', options, { what: 'syslog blaster', cpu: SENDER_CPU });

async function measure(
  sut: SystemUnderTest,
  blast: Omit<BlastOptions, 'port'>,
  { drainSecs, idleSecs }: { drainSecs: number; idleSecs: number },
): Promise<Measured> {
  const t = blast.transport;
  sut.reset();
  const cpu0 = cpuSeconds(sut.pid);
  const sent = await runBlaster({ ...blast, port: sut.port(t) });
  // Until everything sent arrived, or nothing arrived for `idleSecs` (UDP loss), or the deadline.
  const deadline = Date.now() + drainSecs * 1000;
  while (sut.delivered(t) < sent.sent && Date.now() < deadline) {
    if (Date.now() - Math.max(sut.lastAt(t), sent.endMs) > idleSecs * 1000) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cpu = cpuSeconds(sut.pid) - cpu0;
  const delivered = Math.min(sut.delivered(t), sent.sent);
  if (delivered === 0) throw new Error(`${sut.name} delivered none of ${sent.sent} ${t} events`);
  const drained = Date.now() < deadline;
  const secs = (Math.max(sut.lastAt(t), sent.startMs + 1) - sent.startMs) / 1000;
  return {
    rate: delivered / secs,
    cpuPerMillion: (cpu / delivered) * 1e6,
    sent: sent.sent,
    delivered,
    lost: drained ? sent.sent - delivered : 0,
    pending: drained ? 0 : sent.sent - delivered,
  };
}

async function ours(): Promise<SystemUnderTest> {
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  const delivered = { tcp: 0, udp: 0 };
  const lastAt = { tcp: 0, udp: 0 };
  const gatewayId = 'gw-syslog-bench';
  const c = await startTestCentral(
    { type: 'postgres', url: db.url },
    {
      gatewayId: 'gw-unused',
      onStored: (events) => {
        const now = Date.now();
        for (const e of events) {
          if (e.source !== 'syslog' || e.gateway !== gatewayId) continue;
          const t = e.fields.transport === 'udp' ? 'udp' : 'tcp';
          delivered[t] += 1;
          lastAt[t] = now;
        }
      },
    },
  ).catch(async (error: unknown) => {
    await db.drop();
    throw error;
  });
  try {
    const gw = await startGatewayProcess(c, gatewayId, {
      cpu: SUT_CPU,
      config: [
        'sources:',
        '  tcp: { type: syslog, mode: tcp, listen: "127.0.0.1:0" }',
        '  udp: { type: syslog, mode: udp, listen: "127.0.0.1:0" }',
        `detection: { rules_dirs: ["${path.join(REPO_ROOT, 'rules', 'ics')}"] }`,
        // Every line to central, as rsyslog forwards every line: the shipped rules run, but no
        // reducing stage folds the blaster's repeated lines (the default pipeline would).
        'pipeline: { stages: [{ type: normalise }, { type: inventory }, { type: baselines }, { type: detect }] }',
      ],
    });
    return {
      name: 'edge-siem gateway → central',
      pid: gw.pid,
      port: (t) => gw.ports[t]![t]!,
      delivered: (t) => delivered[t],
      lastAt: (t) => lastAt[t],
      reset() {
        delivered.tcp = delivered.udp = lastAt.tcp = lastAt.udp = 0;
      },
      async stop() {
        await gw.stop();
        await c.central.stop();
        await db.drop();
      },
    };
  } catch (error) {
    await c.central.stop();
    await db.drop();
    throw error;
  }
}

async function rsyslog(setup: 'disk-assisted' | 'sync-disk'): Promise<SystemUnderTest> {
  const sink = await startLineSink();
  const r = await startRsyslog(setup, sink.port, SUT_CPU).catch(async (error: unknown) => {
    await sink.close();
    throw error;
  });
  return {
    name: setup === 'disk-assisted' ? 'rsyslog (a) disk-assisted queue' : 'rsyslog (b) sync disk queue',
    pid: r.pid,
    port: () => r.port,
    delivered: (t) => sink.lines(t),
    lastAt: (t) => sink.lastAt(t),
    reset: () => sink.reset(),
    async stop() {
      await r.stop();
      await sink.close();
    },
  };
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  if (!hasTool('rsyslogd')) throw new Error('rsyslogd not installed (Debian package rsyslog)');
  if (!hasTool('taskset')) throw new Error('taskset not installed (Debian package util-linux)');
  // TCP: as fast as the system reads (TCP back-pressure paces the sender) for `boxSecs`, at most
  // `maxTcp`; the rate counts from the first event sent to the last one delivered, so a system
  // that only buffers fast is not credited for what it has not forwarded yet.
  const boxSecs = quick ? 2 : 20;
  const maxTcp = quick ? 15_000 : 300_000;
  const udpRate = quick ? 5000 : 10_000;
  const udp = { transport: 'udp' as const, count: 1e9, seconds: quick ? 2 : 10, rate: udpRate };
  const waits = { drainSecs: quick ? 15 : 90, idleSecs: quick ? 2 : 10 };
  const systems = [ours, () => rsyslog('disk-assisted'), () => rsyslog('sync-disk')];
  const results: Array<{ name: string; tcp: Measured; udp: Measured; peakRss: number }> = [];
  for (const start of systems) {
    const sut = await start();
    try {
      // Warm-up: connections made, JIT warm, everything on the way answered once.
      const warm = await runBlaster({ transport: 'tcp', port: sut.port('tcp'), count: 500, seconds: 30 });
      await waitFor(() => (sut.delivered('tcp') >= warm.sent ? true : undefined), {
        timeoutMs: 60_000,
        what: `${sut.name} to deliver the warm-up`,
      });
      const t = await measure(sut, { transport: 'tcp', count: maxTcp, seconds: boxSecs }, waits);
      const u = await measure(sut, udp, waits);
      results.push({ name: sut.name, tcp: t, udp: u, peakRss: memoryMb(sut.pid, 'VmHWM') });
      if (process.env.BENCH_DEBUG) console.error(sut.name, JSON.stringify(results.at(-1)));
    } finally {
      await sut.stop();
    }
  }
  const us = results[0]!;
  const figures: BenchFigure[] = [];
  for (const transport of ['tcp', 'udp'] as const) {
    const label = transport.toUpperCase();
    for (const r of results) {
      const m = r[transport];
      const how =
        transport === 'tcp'
          ? 'as fast as read'
          : `offered ${udpRate.toLocaleString('en-US')} events/s for ${udp.seconds} s`;
      figures.push({
        name: `${label} syslog, one core: ${r.name}`,
        value: m.rate,
        unit: 'events/s',
        ...(r !== us && { peer: { name: 'edge-siem', value: us[transport].rate } }),
        note: `${how}; sent ${m.sent.toLocaleString('en-US')}, lost ${m.lost.toLocaleString('en-US')}${m.pending ? `, still queued at the deadline ${m.pending.toLocaleString('en-US')}` : ''}`,
        chart: {
          id: `syslog-${transport}-rate`,
          title: `${label} syslog → forwarded, one core (events/s)`,
          series: r.name,
        },
      });
    }
    const rsyslogA = results.find((r) => r.name.startsWith('rsyslog (a)'));
    for (const r of results) {
      figures.push({
        name: `${label} syslog: CPU per million events, ${r.name}`,
        value: r[transport].cpuPerMillion,
        unit: 'CPU s',
        // Issue 18: at most 15 CPU s per million TCP events end to end, beside rsyslog (a).
        ...(r === us &&
          rsyslogA && { peer: { name: rsyslogA.name, value: rsyslogA[transport].cpuPerMillion } }),
        ...(r === us && transport === 'tcp' && { target: { value: 15, better: 'lower', issue: 18 } }),
        chart: {
          id: `syslog-${transport}-cpu`,
          title: `${label} syslog: CPU seconds per million events`,
          series: r.name,
        },
      });
      figures.push({
        name: `${label} syslog: events lost, ${r.name}`,
        value: r[transport].lost,
        unit: 'events',
        ...(r === us && transport === 'tcp' && { target: { value: 0, better: 'lower', issue: 3 } }),
        note: r === us ? 'delivered = committed and acked by central' : 'delivered = received by the sink',
      });
    }
  }
  for (const r of results)
    figures.push({
      name: `peak RSS during the run, ${r.name}`,
      value: r.peakRss,
      unit: 'MB',
      chart: { id: 'syslog-rss', title: 'syslog path: peak RSS (MB)', series: r.name },
    });
  return figures;
}
