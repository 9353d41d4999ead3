/**
 * File source lines/s under rotation (issue 20). One writer process (support/log-writer.ts)
 * appends N numbered lines to `app.log` at 100,000 lines/s (more than the gateway reads on a
 * 2-core machine, so it reads at its full speed throughout; unpaced, 600,000 lines are written
 * before logrotate has run twice), while Debian's `logrotate -f` rotates it every quarter second
 * or so: `create` (the writer reopening its path, as after postrotate), then `copytruncate` (the
 * writer keeping its descriptor). Two readers follow the same file through the same rotations at
 * the same time:
 * - ours: the gateway as it ships (bundle, default pipeline, LevelDB queue with fsync, each batch
 *   of lines durable with its offset), the file source configured as docs/sources.md says
 *   (`app.log` for create, `app.log*` for copytruncate); a line counts once `/metrics` shows it
 *   queued. The bench then reads the queue back and reports, as a figure whose target is 0, the
 *   lines on disk not queued exactly once (with copytruncate, lines the writer added between logrotate's copy and its
 *   truncate are in no file: logrotate(8) loses them; they are reported, not counted);
 * - the peer: rsyslog's imfile (inotify, `reopenOnTruncate`) → omfile, which keeps its offsets in
 *   memory (state files at shutdown) and writes without fsync. Its lost and duplicated lines are
 *   reported; its rate counts the distinct lines it read, and the writer's pace bounds it.
 * Reported: lines/s from the first line written to the last line read, CPU seconds per million
 * lines of each reader process (utime + stime, /proc), and ours per CPU second as a share of
 * the peer's. FILE_BENCH_RATE=<lines/s> sets the writer's rate (0: unpaced) and
 * FILE_BENCH_ROTATE_PAUSE_MS the pause between logrotate runs (default 250).
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { hasTool } from '../support/env.ts';
import { queuedEvents } from '../support/gateway-metrics.ts';
import { findRsyslog } from '../support/rsyslog.ts';
import { type LogWriterOptions, lineNumber } from './support/log-writer.ts';
import { cpuSeconds, runSupportScript, trackDir } from './support/procs.ts';
import { type RsyslogImfile, startRsyslogImfile } from './support/rsyslog-imfile.ts';
import { type StandaloneGateway, startStandaloneGateway } from './support/standalone-gateway.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'File source under logrotate';

const execFileP = promisify(execFile);
const RATE = Number(process.env.FILE_BENCH_RATE ?? 100_000);
/** Pause between two logrotate runs (each run itself takes some tens of ms). */
const ROTATE_PAUSE_MS = Number(process.env.FILE_BENCH_ROTATE_PAUSE_MS ?? 250);

type Mode = 'create' | 'copytruncate';

interface Reader {
  lines: number;
  seconds: number;
  cpuPerMillion: number;
  lost: number;
  duplicates: number;
}

interface ModeResult {
  ours: Reader;
  peer: Reader;
  /** Lines on disk the file source lost, read twice or garbled (must be 0), and how. */
  faults: number;
  faultNote: string;
  rotations: number;
  files: number;
  /** Distinct lines in the files at the end. */
  onDisk: number;
  /** Lines in no file at the end (logrotate's copy → truncate window; create: none). */
  inNoFile: number;
  /** Files ending in a partial line (a copy made during a write). */
  partial: number;
}

function runWriter(options: LogWriterOptions): Promise<{ startMs: number; endMs: number }> {
  return runSupportScript('log-writer.ts', options, { what: 'log writer' });
}

/**
 * Every whole line (ending in LF) in the files of `dir` whose names start with `app.log`, by
 * number and per file, and how many files end in a partial line: a copytruncate copy made while
 * a write was under way ends in the start of a line whose rest was truncated away. No reader
 * hands on a line before its LF, and that one never gets it.
 */
function linesOnDisk(dir: string): {
  numbers: Set<number>;
  files: number;
  byFile: Map<string, number[]>;
  partial: number;
} {
  const numbers = new Set<number>();
  const byFile = new Map<string, number[]>();
  let partial = 0;
  const names = readdirSync(dir).filter((n) => n.startsWith('app.log'));
  for (const name of names) {
    const lines = readFileSync(path.join(dir, name), 'utf8').split('\n');
    if (lines.pop() !== '') partial++;
    const mine = lines.map(lineNumber);
    byFile.set(name, mine);
    for (const x of mine) numbers.add(x);
  }
  return { numbers, files: names.length, byFile, partial };
}

/** Which files hold the lines a reader missed: "app.log.3: 1200 of 5000, ...". */
function missedWhere(read: number[], byFile: Map<string, number[]>): string {
  const seen = new Set(read);
  const out: string[] = [];
  for (const [name, mine] of byFile) {
    const missed = mine.filter((x) => !seen.has(x)).length;
    if (missed > 0) out.push(`${name}: ${missed} of ${mine.length}`);
  }
  return out.join(', ');
}

/**
 * Where the first and last lines read twice were read, each time (file and offset, from the
 * events' fields), so a duplicate names the rotation step that caused it: "" when none.
 */
function twiceWhere(events: ReadonlyArray<{ message: string; fields: Record<string, unknown> }>): string {
  const at = new Map<number, string[]>();
  for (const e of events) {
    const n = lineNumber(e.message);
    const where = `${path.basename(String(e.fields.path))}@${String(e.fields.offset)}`;
    at.set(n, [...(at.get(n) ?? []), where]);
  }
  const twice = [...at].filter(([, w]) => w.length > 1).sort((a, b) => a[0] - b[0]);
  if (twice.length === 0) return '';
  const show = ([n, w]: [number, string[]]) => `line ${n} at ${w.join(' and ')}`;
  return `read twice: ${show(twice[0]!)} … ${show(twice.at(-1)!)}; `;
}

/** Lost (on disk, never read) and duplicated lines of what a reader read. */
function tally(read: number[], onDisk: Set<number>): { distinct: number; lost: number; duplicates: number } {
  const seen = new Set(read);
  let lost = 0;
  for (const n of onDisk) if (!seen.has(n)) lost++;
  return { distinct: seen.size, lost, duplicates: read.length - seen.size };
}

interface Setup {
  dir: string;
  logs: Record<Mode, string>;
  gw: StandaloneGateway;
  peer: RsyslogImfile<Mode>;
}

/** Writes `n` lines to the mode's log while logrotate rotates it; resolves once both readers are done. */
async function measureMode(s: Setup, mode: Mode, n: number, drainMs: number) {
  const logs = s.logs[mode];
  const file = path.join(logs, 'app.log');
  const conf = path.join(s.dir, `logrotate-${mode}.conf`);
  writeFileSync(conf, `${file} {\n  rotate 500\n  ${mode}\n  missingok\n  nocompress\n}\n`);
  const outFile = s.peer.outFiles[mode];
  const before = await queuedEvents(s.gw.httpUrl);
  const cpu0 = { ours: cpuSeconds(s.gw.pid), peer: cpuSeconds(s.peer.pid) };
  let writing = true;
  const writer = runWriter({ file, count: n, rate: RATE, reopen: mode === 'create' }).finally(() => {
    writing = false;
  });
  let rotations = 0;
  while (writing) {
    await execFileP('logrotate', ['-f', '-s', path.join(s.dir, `logrotate-${mode}.state`), conf]);
    rotations++;
    if (process.env.FILE_BENCH_DEBUG) console.error(`rotation ${rotations} at ${Date.now()}`);
    await new Promise((r) => setTimeout(r, ROTATE_PAUSE_MS));
  }
  const { startMs } = await writer;
  const disk = linesOnDisk(logs);
  // With `create`, a line is in no file only when the writer's reopen raced logrotate's rename
  // and create (seen once at load 12: 1,200 lines). Not the reader's doing: reported in the
  // figure's note (lines in no file), never counted against either reader.
  if (mode === 'create' && disk.numbers.size !== n)
    console.error(`file-source bench, create: ${n - disk.numbers.size} lines written are in no file`);

  // Both readers at once: ours is done when the queue holds every line on disk; the peer when
  // its output has not grown for 3 s (it may lose lines, so it is never "complete").
  const done: { ours?: End; peer?: End } = {};
  let peerSize = -1;
  let peerChanged: End = { at: Date.now(), cpu: cpuSeconds(s.peer.pid) };
  // The drain limit is for a reader that stopped, not a slow one: while ours still queues lines
  // (a loaded machine), it gets up to PROGRESS_GRACE_MS more; a line not read by then is lost.
  const deadline = Date.now() + drainMs;
  let queued = 0;
  let progressAt = Date.now();
  while (!done.ours || !done.peer) {
    const now = Date.now();
    const stalled = now - progressAt > 15_000 || now > deadline + PROGRESS_GRACE_MS;
    if (now > deadline && (done.ours || stalled)) {
      // Not all read: the tally after the stop says which lines are missing, and from which files.
      done.ours ??= { at: Date.now(), cpu: cpuSeconds(s.gw.pid) };
      done.peer ??= peerChanged;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
    if (!done.ours) {
      const q = (await queuedEvents(s.gw.httpUrl)) - before;
      if (q !== queued) [queued, progressAt] = [q, Date.now()];
      if (q >= disk.numbers.size) done.ours = { at: Date.now(), cpu: cpuSeconds(s.gw.pid) };
    }
    if (!done.peer) {
      const size = existsSync(outFile) ? statSync(outFile).size : 0;
      if (size !== peerSize) {
        peerSize = size;
        peerChanged = { at: Date.now(), cpu: cpuSeconds(s.peer.pid) };
      } else if (Date.now() - peerChanged.at > 3000) done.peer = peerChanged;
    }
  }
  return { startMs, cpu0, ours: done.ours, peer: done.peer, rotations, disk };
}

/** How much longer than `drainMs` a reader still making progress is waited for. */
const PROGRESS_GRACE_MS = 10 * 60_000;

interface End {
  at: number;
  cpu: number;
}

/** How long both readers get to read every line once the writer is done: `drainMs`. */
async function runModes(n: number, drainMs: number): Promise<Record<Mode, ModeResult>> {
  const { dir, cleanup } = trackDir(mkdtempSync(path.join(tmpdir(), 'bench-file-')));
  const logs = { create: path.join(dir, 'create'), copytruncate: path.join(dir, 'copytruncate') };
  for (const d of Object.values(logs)) {
    mkdirSync(d);
    writeFileSync(path.join(d, 'app.log'), '');
  }
  const peerDir = path.join(dir, 'rsyslog');
  mkdirSync(peerDir);
  const peer = await startRsyslogImfile(peerDir, {
    create: path.join(logs.create, 'app.log'),
    copytruncate: path.join(logs.copytruncate, 'app.log'),
  });
  // As docs/sources.md says: the path for create, the path and its rotations for copytruncate.
  const gw = await startStandaloneGateway('gw-file-bench', [
    'sources:',
    `  create: { type: file, paths: ["${logs.create}/app.log"] }`,
    `  copytruncate: { type: file, paths: ["${logs.copytruncate}/app.log*"] }`,
  ]).catch(async (error: unknown) => {
    await peer.stop();
    throw error;
  });
  try {
    const s: Setup = { dir, logs, gw, peer };
    const measured = {
      create: await measureMode(s, 'create', n, drainMs),
      copytruncate: await measureMode(s, 'copytruncate', n, drainMs),
    };
    // A duplicate would come after the last line: wait out the sources' rotate_wait_secs (5 s).
    const quiet = measured.copytruncate.ours.at + 6000 - Date.now();
    if (quiet > 0) await new Promise((r) => setTimeout(r, quiet));
    // What the gateway counted (errors, drops, truncations), for the message when a check fails.
    const counted = (await (await fetch(`${gw.httpUrl}/metrics`)).text())
      .split('\n')
      .filter((l) => /^siem_gateway_(errors|events_dropped)_total\{/.test(l))
      .join('; ');
    const events = (await gw.stopAndRead()).filter((e) => e.source === 'file');
    await peer.stop();
    const out = {} as Record<Mode, ModeResult>;
    for (const mode of ['create', 'copytruncate'] as const) {
      const m = measured[mode];
      const oursRead = events
        .filter((e) => String(e.fields.path).startsWith(`${logs[mode]}/`))
        .map((e) => lineNumber(e.message));
      const peerRead = readFileSync(peer.outFiles[mode], 'utf8').split('\n').filter(Boolean).map(lineNumber);
      const o = tally(oursRead, m.disk.numbers);
      const p = tally(peerRead, m.disk.numbers);
      const bad = oursRead.filter((x) => !(x >= 0 && x < n)).length;
      // Every line on disk must be read exactly once: a fault is its own figure (target 0), shown
      // as missed in the report with what the gateway counted, rather than failing the whole run.
      const faults = o.lost + o.duplicates + bad;
      const faultNote =
        faults > 0
          ? `lost ${o.lost}, read twice ${o.duplicates}, garbled ${bad} of ${m.disk.numbers.size} (${m.rotations} rotations; missed in ${missedWhere(oursRead, m.disk.byFile) || 'none'}; ${twiceWhere(events.filter((e) => String(e.fields.path).startsWith(`${logs[mode]}/`)))}gateway counted: ${counted || 'nothing'})`
          : `none of ${m.disk.numbers.size} lines on disk`;
      if (faults > 0) console.error(`file-source bench, ${mode}: ${faultNote}`);
      const reader = (t: typeof o, end: End, cpu0: number): Reader => ({
        lines: t.distinct,
        seconds: (end.at - m.startMs) / 1000,
        cpuPerMillion: ((end.cpu - cpu0) * 1e6) / t.distinct,
        lost: t.lost,
        duplicates: t.duplicates,
      });
      out[mode] = {
        ours: reader(o, m.ours, m.cpu0.ours),
        peer: reader(p, m.peer, m.cpu0.peer),
        faults,
        faultNote,
        rotations: m.rotations,
        files: m.disk.files,
        onDisk: m.disk.numbers.size,
        inNoFile: n - new Set([...m.disk.numbers, ...oursRead]).size,
        partial: m.disk.partial,
      };
    }
    return out;
  } finally {
    await gw.close();
    await peer.stop();
    cleanup();
  }
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  if (!hasTool('logrotate')) throw new Error('logrotate not found (Debian logrotate; npm run test:setup)');
  if (!findRsyslog(['imfile.so'])) throw new Error('rsyslogd with imfile not found (npm run test:setup)');
  const n = quick ? 50_000 : 600_000;
  const results = await runModes(n, quick ? 20_000 : 120_000);
  const load = loadavg()[0]!.toFixed(1);
  const figures: BenchFigure[] = [];
  const rate = (x: Reader) => Math.round(x.lines / x.seconds);
  const tenth = (x: number) => Math.round(x * 10) / 10;
  const chart = (series: string) => ({
    id: 'file-source-rate',
    title: 'File source lines/s under logrotate (one writer, both readers at once)',
    series,
  });
  for (const mode of ['create', 'copytruncate'] as const) {
    const r = results[mode];
    const peerLoss = `lost ${r.peer.lost}, read twice ${r.peer.duplicates} of ${r.onDisk} lines on disk`;
    const how = `${n} lines written ${RATE ? `at ${RATE} lines/s` : 'unpaced'}, ${r.rotations} rotations into ${r.files} files${r.inNoFile ? `, ${r.inNoFile} lines in no file (logrotate's copy→truncate window)` : ''}${r.partial ? `, ${r.partial} copies ending in a partial line` : ''}`;
    figures.push(
      {
        name: `${mode}: lines/s to the durable queue`,
        value: rate(r.ours),
        unit: 'lines/s',
        peer: { name: `rsyslog imfile → omfile (${peerLoss})`, value: rate(r.peer) },
        note: `${how}; load ${load}`,
        chart: chart(`ours, ${mode}`),
      },
      {
        name: `${mode}: lines on disk lost, read twice or garbled by the file source`,
        value: r.faults,
        unit: 'lines',
        target: { value: 0, better: 'lower', issue: 20 },
        note: r.faultNote,
      },
      {
        name: `${mode}: rsyslog imfile → omfile, lines/s`,
        value: rate(r.peer),
        unit: 'lines/s',
        note: `the peer, in the same run (${peerLoss}); no fsync, offsets in memory`,
        chart: chart(`rsyslog imfile, ${mode}`),
      },
      {
        name: `${mode}: reader CPU per million lines`,
        value: tenth(r.ours.cpuPerMillion),
        unit: 'CPU s/M lines',
        peer: { name: 'rsyslog imfile → omfile', value: tenth(r.peer.cpuPerMillion) },
        note: `the reader process only (ours: the whole gateway: source, pipeline, fsynced queue); load ${load}`,
      },
      {
        name: `${mode}: lines per CPU second, as a share of rsyslog imfile's`,
        value: Math.round((r.peer.cpuPerMillion / r.ours.cpuPerMillion) * 100) / 100,
        unit: '×',
        // Issue 20 names the figure and sets no number. Our bound: a tenth of a C reader that
        // only splits lines and appends them to a file, keeping its offsets in memory; ours
        // makes each line an Event, runs the default pipeline (inventory, baselines, the Sigma
        // rules) and writes each batch to LevelDB with its offset and an fsync before reading on.
        // CPU time, not the wall clock: the writer paces the peer, and the machine is shared.
        target: { value: 0.1, better: 'higher', issue: 20 },
        note: `our own bound (issue 20 sets no figure); load ${load}`,
      },
    );
  }
  return figures;
}
