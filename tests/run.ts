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

const filters = process.argv.slice(2);
const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);

if (filters.length === 0) {
  console.log('» type check (tsc --noEmit)');
  if ((await run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'])) !== 0) process.exit(1);
  if ((await run(bin('tsc'), ['--noEmit', '-p', 'dashboards/tsconfig.json'])) !== 0) process.exit(1);
  console.log('» lint (eslint)');
  if ((await run(bin('eslint'), ['.'])) !== 0) process.exit(1);
  console.log('» format (prettier --check)');
  if ((await run(bin('prettier'), ['--check', '--log-level', 'warn', '.'])) !== 0) process.exit(1);
}

// The servers serve the built dashboards; the browser tests need them current.
console.log('» build dashboards');
await buildDashboards();

let files = findTests(path.join(REPO_ROOT, 'tests'));
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  console.log('tests: 0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const tapDir = mkdtempSync(path.join(tmpdir(), 'siem-tests-'));
const tapFile = path.join(tapDir, 'report.tap');
console.log(`» ${files.length} test files`);
const code = await run(process.execPath, [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=2',
  // A test file that never exits (a socket or timer left open) fails after 10 minutes instead of
  // holding CI until its own limit.
  '--test-timeout=600000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  ...files,
]);
const tap = readFileSync(tapFile, 'utf8');
rmSync(tapDir, { recursive: true, force: true });
const summary = summarize(tap, code);
for (const line of summary.lines) console.log(line);
process.exit(summary.ok ? 0 : 1);
