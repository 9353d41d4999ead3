/**
 * `npm run bench [-- --quick] [-- --out=DIR] [-- <filter>]`: runs every `tests/bench/*.bench.ts`
 * in its own process (so one benchmark's memory never colours another's) and writes one report
 * (tests/bench/report.ts): `report.md` (a Markdown table, each figure next to its peer and its
 * target with the issue that sets it), `report.json` and SVG charts, into `--out` (or
 * `SIEM_BENCH_OUT`, default `.data/bench/`). A complete run (no --out, --quick or filter, nothing
 * failed) also replaces docs/benchmarks/latest.md (tests/bench/publish.ts). Prints the Markdown;
 * exits 1 when a benchmark failed.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/env.ts';
import {
  type BenchReport,
  benchReportSchema,
  renderCharts,
  renderMarkdown,
  toReportFigure,
} from './report.ts';
import { publishedMarkdown, whyNotPublished, writeReport } from './publish.ts';
import type { BenchFigure } from './types.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const filters = args.filter((a) => !a.startsWith('--'));
const outArg = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const outAsked = outArg !== undefined || process.env.SIEM_BENCH_OUT !== undefined;
const outDir = path.resolve(outArg ?? process.env.SIEM_BENCH_OUT ?? path.join(REPO_ROOT, '.data', 'bench'));
const docsDir = path.join(REPO_ROOT, 'docs', 'benchmarks');
const dir = path.join(REPO_ROOT, 'tests', 'bench');

if (process.env.SIEM_BENCH_CHILD) {
  const mod = await import(path.join(dir, process.env.SIEM_BENCH_CHILD));
  const figures: BenchFigure[] = await mod.run({ quick });
  process.stdout.write(`\n@@BENCH@@${JSON.stringify({ title: mod.title, figures })}\n`);
  process.exit(0);
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no benchmarks found');
  process.exit(1);
}

const startLoad = loadavg()[0]!;
const sections: BenchReport['sections'] = [];
const failed: BenchReport['failed'] = [];
for (const file of files) {
  console.error(`» ${file}${quick ? ' (quick)' : ''}`);
  const started = performance.now();
  // One failing benchmark is reported and the others still run: the report says which failed.
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(dir, 'run.ts'), ...args], {
      env: { ...process.env, SIEM_BENCH_CHILD: file },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
    const line = out.split('\n').find((l) => l.startsWith('@@BENCH@@'));
    if (!line) throw new Error('printed no result');
    const { title, figures } = JSON.parse(line.slice('@@BENCH@@'.length)) as {
      title: string;
      figures: BenchFigure[];
    };
    const bad = figures.find((f) => typeof f.value !== 'number' || !Number.isFinite(f.value));
    if (bad) throw new Error(`figure "${bad.name}" is not a number`);
    if (figures.length === 0) throw new Error('returned no figures');
    const seconds = (performance.now() - started) / 1000;
    sections.push({ title, file, seconds, figures: figures.map(toReportFigure) });
    console.error(`  ${file}: ${seconds.toFixed(0)} s`);
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!;
    console.error(`${file} failed: ${message}`);
    failed.push({ file, error: message });
  }
}

const base = {
  schema: 1 as const,
  date: new Date().toISOString(),
  quick,
  machine: {
    cpus: cpus().length,
    loadavg: [startLoad, loadavg()[0]!] as [number, number],
    node: process.versions.node,
  },
  sections,
  failed,
};
const charts = renderCharts(base);
const report: BenchReport = benchReportSchema.parse({ ...base, charts: [...charts.keys()] });
const markdown = renderMarkdown(report);
const json = `${JSON.stringify(report, null, 2)}\n`;
writeReport(outDir, 'report', { markdown, json, charts });
console.log(markdown);
console.error(`report: ${path.join(outDir, 'report.md')} (and report.json, ${charts.size} charts)`);
const notPublished = whyNotPublished({ quick, filters, outAsked, failed: failed.length });
if (notPublished === null) {
  writeReport(docsDir, 'latest', { markdown: publishedMarkdown(markdown), charts }, { replaceCharts: true });
  console.error(`published: ${path.join(docsDir, 'latest.md')}`);
} else {
  console.error(`docs/benchmarks/latest.md left as it was: ${notPublished}`);
}
if (failed.length > 0) {
  console.error(`failed: ${failed.map((f) => f.file).join(', ')}`);
  process.exitCode = 1;
}
