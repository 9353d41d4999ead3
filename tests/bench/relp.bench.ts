/**
 * RELP events/s (issue 20): the same rsyslog sender (Debian rsyslog, imtcp in, omrelp out,
 * windowSize 1024) relays N numbered lines to
 * - ours: the gateway as it ships (the bundle, `siem-gateway run`), RELP source → pipeline →
 *   durable LevelDB queue (fsync, the default), each transaction answered only after that write;
 *   an event counts once /metrics shows it queued (central is not running: the queue keeps all);
 * - the peer: rsyslog's own imrelp → omfile in a second rsyslogd, which answers from memory
 *   (its queue is not made durable before the ack) and writes the file without fsync.
 * Reported: events/s from the first line sent to the last one stored, and the receiver's CPU
 * seconds per million events (utime + stime from /proc), measured back to back in one run.
 * RELP_BENCH_DEDUPE=<n> sets the gateway's dedupe_window (default 1024; 0 measures without the
 * retransmission check).
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '../support/env.ts';
import { queuedEvents } from '../support/gateway-metrics.ts';
import { findRsyslog } from '../support/rsyslog.ts';
import { sendLines, startRsyslogRelay } from '../interop/support/rsyslog-relp.ts';
import { cpuSeconds, trackDir } from './support/procs.ts';
import { startStandaloneGateway } from './support/standalone-gateway.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'RELP input';

const WINDOW = 1024;
const lines = (n: number) =>
  (function* () {
    for (let i = 0; i < n; i++)
      yield `<13>Dec  5 12:00:00 plc-7 bench: relp bench line ${i} ${'x'.repeat(60)}`;
  })();

interface Measured {
  rate: number;
  cpuPerMillion: number;
}

async function measureOurs(n: number): Promise<Measured> {
  const relpPort = await freePort();
  const gateway = await startStandaloneGateway('gw-relp-bench', [
    `sources: { relp: { type: relp, listen: "127.0.0.1:${relpPort}", max_window: ${WINDOW}, dedupe_window: ${process.env.RELP_BENCH_DEDUPE ?? WINDOW} } }`,
  ]);
  const { httpUrl, pid } = gateway;
  try {
    const sender = await startRsyslogRelay({
      target: { host: '127.0.0.1', port: relpPort },
      windowSize: WINDOW,
    });
    try {
      const cpu0 = cpuSeconds(pid);
      const t0 = performance.now();
      await sendLines(sender.tcpPort, lines(n));
      await waitFor(async () => ((await queuedEvents(httpUrl)) >= n ? true : undefined), {
        timeoutMs: 600_000,
        // Each /metrics read costs the gateway CPU: not too often.
        intervalMs: 250,
        what: `${n} events queued`,
      });
      const secs = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(pid) - cpu0;
      return { rate: n / secs, cpuPerMillion: (cpu * 1e6) / n };
    } finally {
      await sender.stop();
    }
  } finally {
    await gateway.close();
  }
}

async function measurePeer(n: number): Promise<Measured> {
  const { dir, cleanup } = trackDir(mkdtempSync(path.join(tmpdir(), 'bench-relp-peer-')));
  const outFile = path.join(dir, 'out.log');
  const relpPort = await freePort();
  const receiver = await startRsyslogRelay({
    target: { host: '127.0.0.1', port: 0 },
    noForward: true,
    extra: `module(load="imrelp")
input(type="imrelp" address="127.0.0.1" port="${relpPort}" ruleset="out")
ruleset(name="out") { action(type="omfile" file="${outFile}") }`,
  });
  const sender = await startRsyslogRelay({
    target: { host: '127.0.0.1', port: relpPort },
    windowSize: WINDOW,
  });
  try {
    const pid = Number(readFileSync(path.join(receiver.dir, 'rsyslogd.pid'), 'utf8').trim()) || receiver.pid;
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sendLines(sender.tcpPort, lines(n));
    // Lines are of fixed size past their number: count by bytes without reading the file each time.
    const expected = [...lines(n)].reduce((sum, l) => sum + l.length, 0);
    await waitFor(
      () => {
        if (!existsSync(outFile)) return undefined;
        const size = statSync(outFile).size;
        // omfile writes "<timestamp> <host> <tag> <msg>\n": at least the message bytes per line.
        if (size < expected) return undefined;
        const count = readFileSync(outFile, 'utf8').split('\n').length - 1;
        return count >= n ? true : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 100, what: `${n} lines in imrelp's file` },
    );
    const secs = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    return { rate: n / secs, cpuPerMillion: (cpu * 1e6) / n };
  } finally {
    await sender.stop();
    await receiver.stop();
    cleanup();
  }
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  if (!findRsyslog(['omrelp.so', 'imrelp.so']))
    throw new Error('rsyslogd with omrelp/imrelp not found (Debian rsyslog-relp; npm run test:setup)');
  const n = quick ? 20_000 : 200_000;
  const peer = await measurePeer(n);
  const ours = await measureOurs(n);
  const load = loadavg()[0]!.toFixed(1);
  const chart = (series: string) => ({
    id: 'relp-rate',
    title: 'RELP events/s (rsyslog omrelp sender)',
    series,
  });
  return [
    {
      name: `RELP → durable queue, events/s (${n} lines, omrelp windowSize ${WINDOW})`,
      value: Math.round(ours.rate),
      unit: 'events/s',
      peer: { name: 'rsyslog imrelp → omfile (acks from memory)', value: Math.round(peer.rate) },
      note: `each transaction answered after the fsynced LevelDB write; load ${load}`,
      chart: chart('ours'),
    },
    {
      name: 'RELP receiver CPU per million events',
      value: Math.round(ours.cpuPerMillion * 10) / 10,
      unit: 'CPU s/M events',
      peer: { name: 'rsyslog imrelp → omfile', value: Math.round(peer.cpuPerMillion * 10) / 10 },
      note: `receiver process only (utime + stime); load ${load}`,
    },
    {
      name: 'RELP → durable queue, as a share of rsyslog imrelp → omfile',
      value: Math.round((ours.rate / peer.rate) * 100) / 100,
      unit: '×',
      // Issue 20 asks for the two side by side and sets no number. Our own bound: a fifth of a
      // receiver that answers from memory, while ours answers after an fsync.
      target: { value: 0.2, better: 'higher', issue: 20 },
      note: `our own bound (issue 20 sets no figure); load ${load}`,
    },
  ];
}
