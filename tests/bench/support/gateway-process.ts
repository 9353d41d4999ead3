/**
 * The gateway as it ships, for the benchmarks: the bundle from `npm run build:gateway` run the
 * way its wrapper and systemd unit run it (heap cap, two malloc arenas), optionally pinned to one
 * core with `taskset -c`, enrolled with a test central. Reports the ports its sources bound and
 * its local HTTP address, read from what `siem-gateway run` prints.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, waitFor } from '../../support/env.ts';
import type { TestCentral } from '../../support/stack.ts';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS } from '../../../firmware-shims/build/runtime.ts';
import { stopChild, track, trackDir } from './procs.ts';

const BUNDLE = path.join(REPO_ROOT, 'dist', 'gateway', 'siem-gateway.mjs');

let built = false;
/** Builds the bundle once per process (no tarballs). */
export function buildGatewayBundle(): void {
  if (built) return;
  execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'firmware-shims', 'build', 'bundle-gateway.ts'), '--no-pack'],
    { stdio: 'ignore' },
  );
  built = true;
}

/**
 * The command line that runs the bundled gateway with the config file `config` as it ships (the
 * wrapper's Node flags), pinned to core `cpu` by `taskset -c` when given: `[command, ...args]`.
 * BENCH_GATEWAY_BUNDLE=<file> runs that bundle as it is (e.g. one built from another commit),
 * else the one built here; BENCH_GATEWAY_FLAGS="--flag ..." adds Node/V8 flags (to try one before
 * making it the default); BENCH_CPU_PROF=<dir> writes the gateway's CPU profile there.
 */
export function gatewayCommand(config: string, { cpu }: { cpu?: number } = {}): [string, ...string[]] {
  const bundle = process.env.BENCH_GATEWAY_BUNDLE ?? BUNDLE;
  if (!process.env.BENCH_GATEWAY_BUNDLE) buildGatewayBundle();
  const extra = process.env.BENCH_GATEWAY_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const args = [...GATEWAY_NODE_FLAGS, ...extra, ...profile, bundle, 'run', '--config', config];
  return cpu === undefined
    ? [process.execPath, ...args]
    : ['taskset', '-c', String(cpu), process.execPath, ...args];
}

/** The gateway's environment as its wrapper sets it (glibc gives each LevelDB thread its own malloc arena; two keep RSS flat). */
export function gatewayEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...GATEWAY_ENV };
}

export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  httpUrl: string;
  /** Bound port per source name and transport, e.g. ports.tcp.tcp. */
  ports: Record<string, Record<string, number>>;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Enrolls `gatewayId` with `central` and starts the bundled gateway with the given YAML lines
 * (sources, detection, ...) added to a config that points at central.
 */
export async function startGatewayProcess(
  central: TestCentral,
  gatewayId: string,
  { cpu, config = [] }: { cpu?: number; config?: string[] },
): Promise<GatewayProcess> {
  const { dir, cleanup } = trackDir(mkdtempSync(path.join(tmpdir(), 'bench-gw-')));
  await central.enroll(gatewayId, path.join(dir, 'credentials.json'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    [
      `gateway: { id: ${gatewayId}, data_dir: ${dir} }`,
      `central: { endpoint: "${central.central.linkUrl()}" }`,
      'http: { listen: "127.0.0.1:0" }',
      'log: { level: error }',
      ...config,
    ].join('\n'),
  );
  const [command, ...args] = gatewayCommand(file, { cpu });
  const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: gatewayEnv() }));
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  try {
    const httpUrl = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${out}`);
        return /http: (http:\/\/\S+)\/healthz/.exec(out)?.[1];
      },
      { timeoutMs: 60_000, what: 'the gateway to start' },
    );
    const ports: Record<string, Record<string, number>> = {};
    for (const m of out.matchAll(/source (\S+): \S+ (\w+) on [\d.]+:(\d+)/g))
      (ports[m[1]!] ??= {})[m[2]!] = Number(m[3]);
    return {
      child,
      pid: child.pid!,
      httpUrl,
      ports,
      dataDir: dir,
      async stop() {
        await stopChild(child);
        cleanup();
      },
    };
  } catch (error) {
    await stopChild(child);
    cleanup();
    throw error;
  }
}
