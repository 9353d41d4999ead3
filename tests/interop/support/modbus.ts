/**
 * Helpers for the Modbus interop tests: a source context that collects events, a free TCP port
 * for peers that cannot report the one they bound, the pymodbus server (Debian python3-pymodbus)
 * as a child process, and mbpoll (Debian mbpoll) runs.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { TestContext } from 'node:test';
import pino from 'pino';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { createGatewayMetrics } from '../../../gateway/metrics.ts';
import type { SourceContext } from '../../../gateway/pipeline/types.ts';
import { missingPackage, REPO_ROOT, skipMissing, waitFor } from '../../support/env.ts';

export function collectingContext(): SourceContext & { events: PendingEvent[] } {
  const events: PendingEvent[] = [];
  return {
    events,
    emit: async (batch) => {
      events.push(...batch);
    },
    metrics: createGatewayMetrics('test', { processMetrics: false }),
    logger: pino({ level: process.env.SIEM_TEST_LOG ?? 'silent' }),
    now: () => new Date(),
  };
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A python3 that can import pymodbus (Debian's lives in /usr/bin, not in a pyenv shim). */
export function pymodbusPython(t: TestContext): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import pymodbus'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  skipMissing(t, missingPackage('pymodbus', 'python3-pymodbus'));
  return undefined;
}

/** pymodbus over Modbus/TCP on 127.0.0.1 (on `port` when given: a restart keeps its address). */
export async function startPymodbus(
  python: string,
  port?: number,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const bound = port ?? (await freePort());
  return { port: bound, ...(await startPymodbusWith(python, [String(bound)])) };
}

/** pymodbus as an RTU server on a serial device (one end of a socat pty pair). */
export function startPymodbusRtu(python: string, device: string): Promise<{ stop: () => Promise<void> }> {
  return startPymodbusWith(python, ['--rtu', device]);
}

async function startPymodbusWith(python: string, args: string[]): Promise<{ stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    python,
    [`${REPO_ROOT}/tests/interop/support/pymodbus-server.py`, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', () => {});
  await waitFor(() => (out.includes('ready') ? true : undefined), {
    what: 'pymodbus server',
    timeoutMs: 15_000,
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface MbpollResult {
  code: number;
  stdout: string;
  stderr: string;
  values: Map<number, number>;
}

/** Runs mbpoll once against 127.0.0.1:port (PDU addressing, -0) and reads `[ref]: value` lines. */
export function mbpoll(port: number, args: string[]): Promise<MbpollResult> {
  return new Promise((resolve) => {
    execFile(
      'mbpoll',
      ['-m', 'tcp', '-p', String(port), '-0', '-1', '-o', '2', ...args],
      (error, stdout, stderr) => {
        const values = new Map<number, number>();
        for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)) values.set(Number(m[1]), Number(m[2]));
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr, values });
      },
    );
  });
}

/**
 * A pseudo-terminal pair made by socat (Debian socat): two serial devices wired to each other,
 * `a` for the RTU server, `b` for the master. Links live in a temp dir; stop() ends socat.
 */
export async function startPtyPair(
  dir: string,
): Promise<{ a: string; b: string; stop: () => Promise<void> }> {
  const a = `${dir}/ttyA`;
  const b = `${dir}/ttyB`;
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => (existsSync(a) && existsSync(b) ? true : undefined), {
    what: `socat pty pair ${err}`,
    timeoutMs: 5000,
  });
  return {
    a,
    b,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
