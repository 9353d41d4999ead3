/**
 * The benchmark report (issue 10) is not part of `npm test`, but its quick run is checked by the
 * bench-quick-N.test.ts files, one benchmark at a time. The benchmarks are dealt to PARTS files
 * (the runner's 10-minute limit is per file: at load 15-20 the 17 quick runs took longer than that
 * in one file):
 * `npm run bench -- --quick <file>` into a temp dir must finish with the benchmark passing and write a
 * valid report — the JSON matches its schema, the benchmark has its section, every figure is a
 * number with a target (or an explicit none) and a met flag that agrees with it, the Markdown
 * table has a row per figure, and every chart it names exists as an SVG file.
 * Needs the peers the benchmarks start (rsyslog, Mosquitto, taskset, PostgreSQL, ../shared/data):
 * skipped with the reason on a machine without them, failed under CI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { REPO_ROOT, requireTool, sharedData } from '../../support/env.ts';
import { requirePostgres } from '../../support/postgres.ts';
import { benchReportSchema } from '../report.ts';

const BENCHES = readdirSync(path.join(REPO_ROOT, 'tests', 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();

/** What the benchmarks need; false (the test skipped with the reason) when something is missing. */
async function peers(t: TestContext): Promise<boolean> {
  if (!requireTool(t, 'rsyslogd', 'rsyslog')) return false;
  if (!requireTool(t, 'mosquitto', 'mosquitto')) return false;
  if (!requireTool(t, 'taskset', 'util-linux')) return false;
  if (!sharedData(t, 'sigma') || !sharedData(t, 'modbus', 'zeek', 'modbusBig.pcap')) return false;
  const db = await requirePostgres(t);
  if (!db) return false;
  await db.drop();
  return true;
}

/** How many test files share the benchmarks. */
export const PARTS = 4;

/** The suite of part `part` (1..PARTS): every PARTS-th benchmark from its own. */
export function quickBenchSuite(part: number): void {
  describe(`npm run bench -- --quick (part ${part} of ${PARTS}): each benchmark writes a complete, valid report`, () => {
    if (part === 1)
      it('finds the benchmarks', () => {
        assert.ok(BENCHES.length >= 10, BENCHES.join(', '));
      });

    for (const file of BENCHES.filter((_, k) => k % PARTS === part - 1)) {
      it(file, { timeout: 10 * 60_000 }, async (t) => {
        if (!(await peers(t))) return;
        const out = mkdtempSync(path.join(tmpdir(), 'bench-quick-'));
        t.after(() => rmSync(out, { recursive: true, force: true }));
        const started = performance.now();
        const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn('npm', ['run', '--silent', 'bench', '--', '--quick', `--out=${out}`, file], {
            cwd: REPO_ROOT,
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let err = '';
          child.stderr.on('data', (d) => {
            err += d;
          });
          child.on('exit', (c) => resolve({ code: c, stderr: err }));
        });
        const seconds = (performance.now() - started) / 1000;
        assert.equal(code, 0, `the quick run failed:\n${stderr.slice(-4000)}`);
        t.diagnostic(`${file}: ${seconds.toFixed(0)} s`);

        const report = benchReportSchema.parse(
          JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')),
        );
        assert.equal(report.quick, true);
        assert.deepEqual(report.failed, []);
        assert.deepEqual(
          report.sections.map((s) => s.file),
          [file],
          'one section, this benchmark',
        );

        const markdown = readFileSync(path.join(out, 'report.md'), 'utf8');
        assert.match(
          markdown,
          /^\| benchmark \| figure \| value \| peer \(same run\) \| target \(issue\) \| verdict \|$/m,
        );
        for (const section of report.sections) {
          assert.ok(
            section.figures.some((f) => f.target !== null),
            `${section.file} has no figure with a target`,
          );
          for (const f of section.figures) {
            assert.ok(Number.isFinite(f.value), `${f.name}: ${f.value}`);
            if (f.target === null) assert.equal(f.met, null, f.name);
            else {
              assert.equal(
                f.met,
                f.target.better === 'higher' ? f.value >= f.target.value : f.value <= f.target.value,
              );
              assert.ok(f.target.issue, `${f.name}: the target names its issue`);
            }
            const row = markdown.split('\n').find((l) => l.startsWith(`| ${section.title} | ${f.name}`));
            assert.ok(row, `no Markdown row for ${f.name}`);
            assert.equal(row.split(' | ').length, 6, row);
            assert.match(row, f.met === null ? /\| — \|$/ : f.met ? /\| met \|$/ : /\| \*\*missed\*\* \|$/);
          }
        }
        // The syslog path compares ours with both rsyslog setups; its chart exists.
        if (file === 'syslog-path.bench.ts')
          assert.ok(report.charts.includes('syslog-tcp-rate.svg'), report.charts.join(', '));
        for (const chart of report.charts) {
          assert.ok(existsSync(path.join(out, chart)), chart);
          assert.match(
            readFileSync(path.join(out, chart), 'utf8'),
            /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/,
          );
          assert.ok(markdown.includes(`](${chart})`), `report.md shows ${chart}`);
        }
      });
    }
  });
}
