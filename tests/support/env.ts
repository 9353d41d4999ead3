/**
 * What a test needs from outside the repository: third-party test data, peer tools (logger,
 * mosquitto_pub, tshark...) and services (PostgreSQL, Mosquitto). On a user's machine a missing
 * one skips the test with one line naming what is missing and the command that provides it
 * (`missing <what>: <detail>; get it with: <command>`, which tests/run.ts collects into its
 * closing table); under CI=true it fails, because nothing may silently skip in CI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SuiteContext, TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Where `npm run test:data` puts the files of tests/data/MANIFEST.tsv (git-ignored). */
export const FETCHED_DATA = path.join(REPO_ROOT, '.data', 'test-data');

/**
 * The third-party data folder: SIEM_SHARED_DATA when set, else ../shared/data beside the
 * checkout when it exists, else the folder `npm run test:data` fills.
 */
export const SHARED_DATA = pickDataDir();

function pickDataDir(): string {
  if (process.env.SIEM_SHARED_DATA) return path.resolve(process.env.SIEM_SHARED_DATA);
  const beside = path.resolve(REPO_ROOT, '..', 'shared', 'data');
  return existsSync(beside) ? beside : FETCHED_DATA;
}

/** Something a test needs and did not find, and the command that provides it. */
export interface Missing {
  /** Short name, the closing table's row: `chromium`, `PostgreSQL`, `third-party test data`. */
  what: string;
  /** What exactly was looked for, and where. */
  detail: string;
  /** The command that provides it. */
  provide: string;
}

const SEPARATOR = '; get it with: ';

/** The one-line skip reason; tests/run.ts parses it back with `parseMissing`. */
export function formatMissing(m: Missing): string {
  return `missing ${m.what}: ${m.detail}${SEPARATOR}${m.provide}`;
}

export function parseMissing(reason: string): Missing | undefined {
  const match = /^missing (.+?): (.*)$/.exec(reason);
  const cut = match ? match[2]!.lastIndexOf(SEPARATOR) : -1;
  if (!match || cut < 0) return undefined;
  return {
    what: match[1]!,
    detail: match[2]!.slice(0, cut),
    provide: match[2]!.slice(cut + SEPARATOR.length),
  };
}

/** The `what` of a missing third-party data file. */
export const TEST_DATA = 'third-party test data';

/** The command that installs and starts every peer and service the suite uses. */
export const SETUP_COMMAND = 'npm run test:setup';

/** A hook's context (`before` in a `describe`) has no `skip`; a test's does. */
type SkipContext = TestContext | SuiteContext;
const isTest = (t: SkipContext): t is TestContext => typeof (t as TestContext).skip === 'function';

/** What suites' hooks found missing, for `skipUnmet` in their tests (one process per test file). */
const unmet: Array<{ suite: string; why: string }> = [];
let lastUnmet: string | undefined;

/**
 * Records something missing without skipping yet (a module-level probe such as a temp
 * database); the tests that then find no store skip with it through `skipUnmet`.
 */
export function noteMissing(m: Missing): string {
  lastUnmet = formatMissing(m);
  return lastUnmet;
}

/**
 * Skips the test (fails it under CI=true). Given a suite's context (in a `before` hook), records
 * the reason instead: each test of the suite then calls `skipUnmet(t)`.
 */
export function skipMissing(t: SkipContext, m: Missing): void {
  const why = formatMissing(m);
  if (IN_CI) throw new Error(`${why} (CI=true: nothing may skip; .ci/run must provide it)`);
  lastUnmet = why;
  if (isTest(t)) t.skip(why);
  else unmet.push({ suite: (t as { fullName?: string }).fullName ?? t.name, why });
}

/**
 * Skips a test whose suite (or module) found something missing, with that reason. Every test
 * that returns early because a `before` hook found no browser, database or tool calls this.
 */
export function skipUnmet(t: TestContext): void {
  const own = unmet.findLast((u) => t.fullName.startsWith(`${u.suite} > `));
  t.skip(
    own?.why ??
      lastUnmet ??
      formatMissing({ what: 'a requirement', detail: 'its suite set-up skipped', provide: SETUP_COMMAND }),
  );
}

/**
 * Returns the absolute path of a file under the data folder, or skips the test (fails in CI)
 * when it is absent.
 */
export function sharedData(t: SkipContext, ...parts: string[]): string | undefined {
  const file = path.join(SHARED_DATA, ...parts);
  if (existsSync(file)) return file;
  skipMissing(t, {
    what: TEST_DATA,
    detail: `${parts.join('/')} not in ${SHARED_DATA} (see tests/README.md; SIEM_SHARED_DATA overrides)`,
    provide: 'npm run test:data',
  });
  return undefined;
}

/** True when `tool` is on PATH; otherwise skips the test, or fails it under CI=true. */
export function requireTool(t: SkipContext, tool: string, debianPackage: string): boolean {
  if (hasTool(tool)) return true;
  skipMissing(t, missingPackage(tool, debianPackage));
  return false;
}

/**
 * A Debian package not installed. `debianPackage` may carry a note after the name
 * (`tshark (wireshark-common)`); the install command takes the first word.
 */
export function missingPackage(tool: string, debianPackage: string): Missing {
  return {
    what: path.basename(tool),
    detail: `${path.isAbsolute(tool) ? `${tool} not found` : 'not found on PATH'} (Debian package ${debianPackage})`,
    provide: `sudo apt-get install ${debianPackage.split(' ')[0]!}`,
  };
}

/** A service the tests connect to, not running. */
export function missingService(what: string, detail: string): Missing {
  return { what, detail, provide: `${SETUP_COMMAND} (installs and starts it)` };
}

export function hasTool(tool: string): boolean {
  return whichTool(tool) !== undefined;
}

/** The absolute path `tool` resolves to on PATH (or itself, when absolute and executable). */
export function whichTool(tool: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
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

/** A `waitFor` probe: true once something accepts a TCP connection on 127.0.0.1:`port`. */
export async function listening(port: number): Promise<true | undefined> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(undefined));
  });
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
