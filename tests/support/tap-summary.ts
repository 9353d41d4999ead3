/**
 * The end of `npm test`, from the run's TAP report: a table of what was skipped and why
 * (grouped by the `missing <what>: <detail>; get it with: <command>` reasons of env.ts), and a
 * last line `tests: N passed, N failed, N skipped` that agrees with the exit status. Cancelled
 * tests (a suite whose hook failed, a file that timed out) count as failed; a run that counts no
 * tests, or whose runner failed with no failing test counted, counts one failure; under CI=true
 * a skip for something missing counts as a failure, since CI must provide everything.
 */
import { IN_CI, parseMissing, TEST_DATA } from './env.ts';

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
  /** What to print, the closing line last. */
  lines: string[];
}

interface Skip {
  reason: string;
  suite: boolean;
}

/** Every `ok N - name # SKIP reason` test point, and whether it is a whole suite's. */
export function tapSkips(tap: string): Skip[] {
  const lines = tap.split('\n');
  const skips: Skip[] = [];
  lines.forEach((line, i) => {
    const m = /^\s*ok \d+ - .*? # SKIP(?: (.*))?$/.exec(line);
    if (!m) return;
    // The YAML block after a test point says `type: 'suite'` for a describe.
    const suite = yamlAfter(lines, i).type === "'suite'";
    skips.push({ reason: (m[1] ?? '').replace(/\\#/g, '#'), suite });
  });
  return skips;
}

/** The `key: value` lines of the YAML block after the test point at `lines[i]`, values as written. */
function yamlAfter(lines: string[], i: number): Record<string, string> {
  const yaml: Record<string, string> = {};
  for (let j = i + 1; j < lines.length && /^\s*(---|\.\.\.|\w+:|\s)/.test(lines[j]!); j++) {
    if (/^\s*\.\.\.$/.test(lines[j]!)) break;
    const kv = /^\s*(\w+): (.*)$/.exec(lines[j]!);
    if (kv) yaml[kv[1]!] ??= kv[2]!;
  }
  return yaml;
}

/** A test file whose process failed outside any test: its exit, and what it printed before it ended. */
export interface FileFailure {
  file: string;
  exit: string;
  printed: string[];
}

/**
 * The test files that failed as a whole (`error: 'test failed'`: an uncaught exception after
 * their tests ended, a non-zero exit), each with the top-level `# ` lines Node wrote just before
 * (the "generated asynchronous activity after the test ended" message, the file's stderr): the
 * spec report's list of failures names only the file, and CI shows the end of the output.
 */
export function fileFailures(tap: string, keep = 20): FileFailure[] {
  const lines = tap.split('\n');
  const out: FileFailure[] = [];
  let printed: string[] = [];
  lines.forEach((line, i) => {
    if (/^# (?!Subtest: )/.test(line)) printed.push(line.slice(2));
    const m = /^not ok \d+ - (.*)$/.exec(line);
    if (!m && !/^ok \d+ - /.test(line)) return;
    if (m) {
      const yaml = yamlAfter(lines, i);
      if (yaml.error === "'test failed'")
        out.push({
          file: m[1]!,
          exit: `exit code ${yaml.exitCode ?? '?'}${yaml.signal && yaml.signal !== '~' ? `, signal ${yaml.signal}` : ''}`,
          printed: printed.slice(-keep),
        });
    }
    printed = [];
  });
  return out;
}

export function summarize(tap: string, runnerExitCode: number, inCi = IN_CI): Summary {
  const count = (label: string) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  const skips = tapSkips(tap);
  const passed = count('pass');
  let failed = count('fail') + count('cancelled');
  // Node counts the tests of a skipped suite nowhere; the suite counts as one skipped here.
  const skipped = count('skipped') + skips.filter((s) => s.suite).length;
  const lines: string[] = [];
  const table = skipTable(skips);
  if (table.length > 0) lines.push('', `» skipped, and why:`, ...table);
  const missing = skips.filter((s) => parseMissing(s.reason)).length;
  if (inCi && missing > 0) {
    lines.push(`» CI=true: ${missing} skipped for something missing, counted as failed (CI must provide it)`);
    failed += missing;
  }
  for (const f of fileFailures(tap)) {
    lines.push('', `» ${f.file} failed outside its tests (${f.exit}); what it printed last:`);
    lines.push(...(f.printed.length > 0 ? f.printed.map((l) => `    ${l}`) : ['    (nothing)']));
  }
  if (passed + failed + skipped === 0) {
    lines.push('» the run counted no tests: that is a failure');
    failed = 1;
  } else if (runnerExitCode !== 0 && failed === 0) {
    lines.push(`» the test runner exited ${runnerExitCode} with no failing test counted: one failure`);
    failed = 1;
  }
  lines.push(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return { passed, failed, skipped, ok: failed === 0, lines };
}

/** One row per missing thing: how many tests, and the command that provides it. */
export function skipTable(skips: Skip[]): string[] {
  const rows = new Map<string, { tests: number; details: Set<string>; provide: string }>();
  for (const s of skips) {
    const m = parseMissing(s.reason);
    const key = m ? m.what : `(other) ${s.reason || 'no reason given'}`;
    const row = rows.get(key) ?? { tests: 0, details: new Set<string>(), provide: m?.provide ?? '' };
    row.tests += 1;
    if (m) row.details.add(m.detail);
    rows.set(key, row);
  }
  if (rows.size === 0) return [];
  const entries = [...rows].map(([what, r]) => ({
    what: what === TEST_DATA ? `${what} (${r.details.size} files)` : what,
    tests: String(r.tests),
    provide: r.provide || '-',
  }));
  const w = Math.max(4, ...entries.map((e) => e.what.length));
  const header = `  ${'what'.padEnd(w)}  tests  get it with`;
  const body = entries.map((e) => `  ${e.what.padEnd(w)}  ${e.tests.padStart(5)}  ${e.provide}`);
  const hint = entries.some((e) => e.provide !== '-')
    ? ['  (`npm run test:all` installs and starts all of these, fetches the data and runs everything)']
    : [];
  return [header, ...body, ...hint];
}
