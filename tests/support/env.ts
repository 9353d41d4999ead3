/**
 * What a test needs from outside the repository: the third-party material in ../shared/data and
 * peer tools (logger, mosquitto_pub, tshark...). On a user's machine a missing one skips the test
 * with a clear message; under CI=true it fails, because nothing may silently skip in CI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DATA = process.env.SIEM_SHARED_DATA ?? path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Returns the absolute path of a file under ../shared/data, or skips the test (fails in CI)
 * when it is absent.
 */
export function sharedData(t: TestContext, ...parts: string[]): string | undefined {
  const file = path.join(SHARED_DATA, ...parts);
  if (existsSync(file)) return file;
  const why = `third-party test data not found at ${file} (see tests/README.md; set SIEM_SHARED_DATA to its location)`;
  if (IN_CI) throw new Error(`${why}; it must be present in CI`);
  t.skip(why);
  return undefined;
}

/** True when `tool` is on PATH; otherwise skips the test, or fails it under CI=true. */
export function requireTool(t: TestContext, tool: string, debianPackage: string): boolean {
  if (hasTool(tool)) return true;
  const why = `${tool} not installed (Debian package ${debianPackage})`;
  if (IN_CI) throw new Error(`${why}; CI must install it (.ci/run)`);
  t.skip(why);
  return false;
}

export function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 10_000, intervalMs = 25, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}

/** A TCP port that was free a moment ago, for a server that must be told its port up front. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
