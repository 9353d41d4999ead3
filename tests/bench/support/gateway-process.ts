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
  // BENCH_GATEWAY_BUNDLE=<file>: run that bundle as it is (e.g. one built from another commit).
  const bundle = process.env.BENCH_GATEWAY_BUNDLE ?? BUNDLE;
  if (!process.env.BENCH_GATEWAY_BUNDLE) buildGatewayBundle();
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
  // BENCH_CPU_PROF=<dir>: write the gateway's CPU profile there (to see where its time goes).
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // BENCH_GATEWAY_FLAGS="--flag ...": extra Node/V8 flags, to try one before making it the default.
  const extra = process.env.BENCH_GATEWAY_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const argv = [
    process.execPath,
    ...GATEWAY_NODE_FLAGS,
    ...extra,
    ...profile,
    bundle,
    'run',
    '--config',
    file,
  ];
  const child = track(
    cpu === undefined
      ? spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: gatewayEnv() })
      : spawn('taskset', ['-c', String(cpu), ...argv], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: gatewayEnv(),
        }),
  );
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

function gatewayEnv(): NodeJS.ProcessEnv {
  // glibc gives each LevelDB thread its own arena; two keep RSS flat, as the systemd unit does.
  return { ...process.env, ...GATEWAY_ENV };
}
