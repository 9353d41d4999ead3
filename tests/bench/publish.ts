/**
 * Where a benchmark report is written. Every run writes `report.md`, `report.json` and its SVG
 * charts into its output directory (`--out`, `SIEM_BENCH_OUT`, or `.data/bench/`). A complete run
 * — every benchmark, full sizes, none failed, no output directory asked for — is also the
 * project's published report: it replaces `docs/benchmarks/latest.md` and its charts, which
 * docs/benchmarks.md links to (not the JSON: `prettier --check .` would refuse its layout, and the
 * JSON of a run stays in its output directory). Quick, filtered or failed runs never touch docs/,
 * so a smoke run or a re-run of one benchmark cannot pass for a full report.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface RunShape {
  quick: boolean;
  /** Benchmark-name filters given on the command line. */
  filters: string[];
  /** An output directory was asked for (`--out=` or `SIEM_BENCH_OUT`). */
  outAsked: boolean;
  failed: number;
}

/** Why this run does not replace docs/benchmarks/latest.md, or null when it does. */
export function whyNotPublished(run: RunShape): string | null {
  if (run.outAsked) return 'an output directory was given';
  if (run.quick) return 'a quick run';
  if (run.filters.length > 0) return 'only some benchmarks ran';
  if (run.failed > 0) return 'a benchmark failed';
  return null;
}

/**
 * Writes one report into `dir` as `<base>.md`, `<base>.json` (when given) and its charts. With `replaceCharts`,
 * SVG files in `dir` that this report no longer draws are removed (docs/benchmarks/ holds only
 * the latest report's charts).
 */
export function writeReport(
  dir: string,
  base: string,
  files: { markdown: string; json?: string; charts: Map<string, string> },
  options: { replaceCharts?: boolean } = {},
): void {
  mkdirSync(dir, { recursive: true });
  if (options.replaceCharts) {
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.svg') && !files.charts.has(name)) rmSync(path.join(dir, name));
    }
  }
  for (const [name, svg] of files.charts) writeFileSync(path.join(dir, name), svg);
  if (files.json !== undefined) writeFileSync(path.join(dir, `${base}.json`), files.json);
  writeFileSync(path.join(dir, `${base}.md`), files.markdown);
}

/** The report as published in docs/benchmarks/: the same, with a pointer to what each figure means. */
export function publishedMarkdown(markdown: string): string {
  const [title, ...rest] = markdown.split('\n');
  const note =
    'Written by `npm run bench` (a complete run); what each benchmark measures and how to read the table: [the benchmarks page](../benchmarks.md).';
  return [title, '', note, ...rest].join('\n');
}
