/**
 * The soak's server processes, each a real child: central (`siem-central run`) and the gateway
 * (`siem-gateway run`, from the sources through tsx, or the bundle `npm run build:gateway` makes,
 * with the Node flags and environment it ships with). Each is started from a config file the soak
 * writes, on ports fixed for the whole run so that a restarted process is found where the old one
 * was; `startX` resolves once the process printed its addresses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS } from '../../firmware-shims/build/runtime.ts';
import { buildGatewayBundle } from '../bench/support/gateway-process.ts';
import { stopChild, track } from '../bench/support/procs.ts';
import { REPO_ROOT, waitFor } from '../support/env.ts';

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it printed (stdout and stderr), for the report when it fails. */
  output(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL; resolves once it exited. */
  kill(): Promise<void>;
  /**
   * Resolves, with what it last printed, when it exits without `stop` or `kill` having been
   * called: a crash the soak must report at once, not an hour later as missing events.
   */
  crashed: Promise<string>;
}

function spawnServer(argv: string[], env: NodeJS.ProcessEnv, ready: RegExp, what: string) {
  const child = track(
    spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let out = '';
  // (A start may take minutes on a saturated machine: the limit is generous.)
  // Keep the start and the last 64 KiB: a day-long run must not grow this without bound.
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > 128 * 1024) out = `${out.slice(0, 32 * 1024)}\n[...]\n${out.slice(-64 * 1024)}`;
  };
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  let stopping = false;
  const crashed = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping)
        resolve(`${what.replace(/ to start$/, '')} exited (${code ?? signal}):\n${out.slice(-4000)}`);
    }),
  );
  const proc: ServerProcess = {
    child,
    pid: child.pid!,
    output: () => out,
    crashed,
    stop: (graceMs = 30_000) => {
      stopping = true;
      return stopChild(child, graceMs);
    },
    async kill() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
  const match = waitFor(
    () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${out.slice(-2000)}`);
      return ready.exec(out) ?? undefined;
    },
    { timeoutMs: 300_000, intervalMs: 50, what },
  ).catch(async (error: Error) => {
    await proc.kill();
    throw new Error(`${error.message}\n${out.slice(-2000)}`);
  });
  return { proc, match };
}

export async function startCentralProcess(
  configFile: string,
): Promise<ServerProcess & { url: string; linkUrl: string }> {
  // SOAK_CENTRAL_FLAGS="--flag ...": extra Node/V8 flags for central, e.g. --max-old-space-size=1024
  // --heapsnapshot-near-heap-limit=1 --diagnostic-dir=DIR to catch what its heap holds.
  const extra = process.env.SOAK_CENTRAL_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const { proc, match } = spawnServer(
    [
      process.execPath,
      ...extra,
      path.join(REPO_ROOT, 'bin', 'siem-central.js'),
      'run',
      '--config',
      configFile,
    ],
    process.env,
    /central: (http:\/\/\S+)\s+link: (\S+)/,
    'central to start',
  );
  const m = await match;
  return { ...proc, url: m[1]!, linkUrl: m[2]! };
}

export interface GatewayServer extends ServerProcess {
  httpUrl: string;
}

export async function startGatewayProcess(configFile: string, bundle: boolean): Promise<GatewayServer> {
  if (bundle) buildGatewayBundle();
  // SOAK_GATEWAY_FLAGS="--flag ...": extra Node/V8 flags for the gateway, e.g.
  // --heapsnapshot-signal=SIGUSR2 or --heapsnapshot-near-heap-limit=1 --diagnostic-dir=DIR.
  const extra = process.env.SOAK_GATEWAY_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const entry = bundle
    ? [...GATEWAY_NODE_FLAGS, ...extra, path.join(REPO_ROOT, 'dist', 'gateway', 'siem-gateway.mjs')]
    : [...extra, path.join(REPO_ROOT, 'bin', 'siem-gateway.js')];
  const { proc, match } = spawnServer(
    [process.execPath, ...entry, 'run', '--config', configFile],
    { ...process.env, ...GATEWAY_ENV },
    /http: (http:\/\/\S+)\/healthz/,
    'the gateway to start',
  );
  const m = await match;
  return { ...proc, httpUrl: m[1]! };
}

/**
 * A Prometheus counter or gauge of a gateway, summed over the label sets that match `labels`.
 * `timeoutMs`: a gateway behind on a saturated machine answered /metrics in more than 5 s.
 */
export async function gatewayMetric(
  httpUrl: string,
  name: string,
  labels = '',
  timeoutMs = 5000,
): Promise<number> {
  const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? ([\\d.e+-]+)$`, 'gm')))
    if (!labels || (m[1] ?? '').includes(labels)) sum += Number(m[2]);
  return sum;
}
