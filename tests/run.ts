/**
 * `npm test`: type check, lint and format check, then every `*.test.ts` under tests/ with the
 * Node test runner. Node 20's `node --test` expands no globs and exits 0 when it finds no test
 * files, so the files are listed here explicitly and the run fails when it counts no tests.
 * Pass file paths or substrings to run a subset: `npm test -- syslog`. The run ends with a table
 * of what was skipped and why, and a last line `tests: N passed, N failed, N skipped` that
 * agrees with the exit status (cancelled tests count as failed).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGLITE_TEMPLATE_ENV, writePgliteTemplate } from '../central/store/pglite.ts';
import { buildDashboards } from '../dashboards/build.ts';
import { REPO_ROOT } from './support/env.ts';
import { summarize } from './support/tap-summary.ts';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(full));
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Runs a check with its output kept, to print whole once it ends (the checks run at once). */
function check(what: string, cmd: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      console.log(`» ${what}${code === 0 ? '' : ': failed'}`);
      if (out) process.stdout.write(out);
      resolve(code === 0);
    });
  });
}

/**
 * Files that take about half a minute or more (measured in a full run), started first and longest
 * first: files run in the order given, two at a time, so a long file started last
 * keeps the run going on one slot while the other idles (the 5-minute soak, last alphabetically,
 * did: about five of the run's 29 minutes). The rest follow in path order.
 */
const LONGEST_FIRST = [
  'soak/soak.test.ts',
  'bench/bench-quick-3.test.ts',
  'bench/bench-quick-2.test.ts',
  'bench/bench-quick-4.test.ts',
  'bench/bench-quick-1.test.ts',
  'demo/demo.test.ts',
  'test-infra/fresh-clone.test.ts',
  'integration/faults-outage.test.ts',
  'central/store/postgres.test.ts',
  'e2e/gateway-dashboard.test.ts',
  'integration/crash.test.ts',
  'gateway/sources/modbus-proxy/flood.test.ts',
  'firmware-shims/install.test.ts',
  'integration/cluster-sigkill.test.ts',
  'central/sinks/webhook.test.ts',
  'central/store/pglite.test.ts',
  'e2e/reports.test.ts',
  'integration/faults-disk.test.ts',
  'e2e/central-rules.test.ts',
  'firmware-shims/image-provision.test.ts',
].map((f) => path.join(REPO_ROOT, 'tests', f));

/** `files` with the long ones first; a name in LONGEST_FIRST that is not a test file is an error. */
function longestFirst(files: string[]): string[] {
  const missing = LONGEST_FIRST.filter((f) => !files.includes(f));
  if (missing.length > 0)
    throw new Error(`tests/run.ts LONGEST_FIRST names no test file: ${missing.join(', ')}`);
  return [...LONGEST_FIRST, ...files.filter((f) => !LONGEST_FIRST.includes(f))];
}

// How many test files run at once: a whole number from 1 to 64, or the run stops here and says so,
// before the build (Number('two') is NaN, which Node's runner rejects with a stack trace, after it).
const concurrency = process.env.SIEM_TEST_CONCURRENCY ?? '2';
if (!/^[1-9][0-9]?$/.test(concurrency) || Number(concurrency) > 64) {
  console.error(
    `SIEM_TEST_CONCURRENCY must be a whole number from 1 to 64, not ${JSON.stringify(concurrency)}`,
  );
  process.exit(2);
}
const filters = process.argv.slice(2);
const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);

let files = longestFirst(findTests(path.join(REPO_ROOT, 'tests')));
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  console.log('tests: 0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const tapDir = mkdtempSync(path.join(tmpdir(), 'siem-tests-'));
// The servers serve the built dashboards; the browser tests need them current. The in-memory
// PGlite databases of the test files start from a template made once here (central/store/pglite.ts).
const template = path.join(tapDir, 'pglite-template.tar');
const prepared = Promise.all([buildDashboards(), writePgliteTemplate(template)]);
prepared.catch(() => {}); // awaited (and thrown) below, after the checks
if (filters.length === 0) {
  // Each on one core: side by side they take half the time.
  const ok = await Promise.all([
    check('type check (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']),
    check('type check of the dashboards', bin('tsc'), ['--noEmit', '-p', 'dashboards/tsconfig.json']),
    check('lint (eslint)', bin('eslint'), ['.']),
    check('format (prettier --check)', bin('prettier'), ['--check', '--log-level', 'warn', '.']),
  ]);
  if (ok.includes(false)) {
    rmSync(tapDir, { recursive: true, force: true });
    process.exit(1);
  }
}
console.log('» build dashboards, PGlite template');
await prepared;
process.env[PGLITE_TEMPLATE_ENV] = template;

// SIEM_TEST_TAP=<file> keeps the TAP report (each file's duration is in it); otherwise a temp file.
const tapFile = process.env.SIEM_TEST_TAP ?? path.join(tapDir, 'report.tap');
// Not inherited: a test that runs the suite itself (the fresh-clone test) would write over it.
delete process.env.SIEM_TEST_TAP;
console.log(`» ${files.length} test files`);
// In the order of `files`, two at a time (support/run-files.ts: Node 20's `node --test` would sort them).
const code = await run(process.execPath, [
  '--import',
  'tsx',
  path.join(REPO_ROOT, 'tests', 'support', 'run-files.ts'),
  tapFile,
  concurrency,
  ...files,
]);
const tap = readFileSync(tapFile, 'utf8');
rmSync(tapDir, { recursive: true, force: true });
const summary = summarize(tap, code);
// Exit once the summary is written: process.exit() drops a write still queued on a pipe or socket,
// and the last line is what CI and the fresh-clone test read.
process.stdout.write(`${summary.lines.join('\n')}\n`, () => process.exit(summary.ok ? 0 : 1));
