/**
 * Process bookkeeping for the benchmarks: CPU seconds and RSS of a process under test read from
 * /proc (proc(5): utime and stime are fields 14 and 15 of /proc/<pid>/stat, summed over all its
 * threads; VmRSS and VmHWM in /proc/<pid>/status), and a registry of every child and temp dir a
 * benchmark starts, so that all of them go away even when the benchmark fails or is interrupted;
 * and the runner of the benchmarks' load generators, each a support script in its own process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Clock ticks per second (`getconf CLK_TCK`), 100 on every Linux the gateway targets. */
const TICKS_PER_SEC = 100;

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
}

/** A memory figure of /proc/<pid>/status in MB: `VmRSS` now, or `VmHWM` (the peak so far). */
export function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

function killAll(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });

/** Registers a child so it is killed when this process exits, however it exits. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Registers a temp dir so it is removed when this process exits; `cleanup` removes it now. */
export function trackDir(dir: string): { dir: string; cleanup: () => void } {
  dirs.add(dir);
  return {
    dir,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs `tests/bench/support/<script>` in a child Node process (with tsx; pinned to core `cpu` by
 * taskset when given), its options as one JSON argument, and resolves to the JSON of the last
 * line it prints on stdout once it has exited with 0 (its stderr is this process's). The scripts
 * (log-writer.ts, ingest-client.ts, ...) generate a benchmark's load apart from what is measured.
 */
export function runSupportScript<T>(
  script: string,
  options: unknown,
  { what = script, cpu }: { what?: string; cpu?: number } = {},
): Promise<T> {
  const argv = [
    process.execPath,
    '--import',
    'tsx',
    path.join(path.dirname(fileURLToPath(import.meta.url)), script),
    JSON.stringify(options),
  ];
  const child = track(
    cpu === undefined
      ? spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('taskset', ['-c', String(cpu), ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': the stdout pipe may still hold the last line when the process exits.
  return new Promise((resolve, reject) =>
    child.once('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!) as T)
        : reject(new Error(`${what} exited with ${code}`)),
    ),
  );
}
