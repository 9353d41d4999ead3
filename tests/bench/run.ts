/**
 * `npm run bench [-- --quick] [-- <filter>]`: runs every `tests/bench/*.bench.ts` in its own
 * process (so one benchmark's memory never colours another's) and prints one Markdown table,
 * each figure next to its peer or target, then the same as JSON (also written to
 * `.data/bench/report.json`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/env.ts';
import type { BenchFigure } from './types.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const filters = args.filter((a) => !a.startsWith('--'));
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

const report: Array<{ title: string; figures: BenchFigure[] }> = [];
const failed: string[] = [];
for (const file of files) {
  console.error(`» ${file}${quick ? ' (quick)' : ''}`);
  // One failing benchmark is reported and the others still run: the report says which failed.
  let out = '';
  try {
    out = execFileSync(process.execPath, ['--import', 'tsx', path.join(dir, 'run.ts'), ...args], {
      env: { ...process.env, SIEM_BENCH_CHILD: file },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
  } catch (error) {
    console.error(`${file} failed: ${(error as Error).message.split('\n')[0]}`);
    failed.push(file);
    continue;
  }
  const line = out.split('\n').find((l) => l.startsWith('@@BENCH@@'));
  if (!line) {
    console.error(`${file} printed no result`);
    failed.push(file);
    continue;
  }
  report.push(JSON.parse(line.slice('@@BENCH@@'.length)));
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3));
const rows = [
  '| benchmark | figure | value | peer / target | ratio | verdict |',
  '|---|---|---|---|---|---|',
];
for (const { title, figures } of report) {
  for (const f of figures) {
    const peer = f.peer ? `${f.peer.name}: ${fmt(f.peer.value)} ${f.unit}` : '';
    const target = f.target
      ? `target ${f.target.better === 'higher' ? '≥' : '≤'} ${fmt(f.target.value)} ${f.unit}`
      : '';
    const ratio = f.peer && f.peer.value !== 0 ? `${(f.value / f.peer.value).toFixed(2)}×` : '';
    const ok = f.target
      ? (f.target.better === 'higher' ? f.value >= f.target.value : f.value <= f.target.value)
        ? 'meets target'
        : 'MISSES target'
      : '';
    rows.push(
      `| ${title} | ${f.name}${f.note ? ` (${f.note})` : ''} | ${fmt(f.value)} ${f.unit} | ${[peer, target].filter(Boolean).join('; ')} | ${ratio} | ${ok} |`,
    );
  }
}
const markdown = rows.join('\n');
console.log(markdown);
const json = JSON.stringify({ quick, date: new Date().toISOString(), report, failed }, null, 2);
console.log(json);
mkdirSync(path.join(REPO_ROOT, '.data', 'bench'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, '.data', 'bench', 'report.json'), json);
writeFileSync(path.join(REPO_ROOT, '.data', 'bench', 'report.md'), `${markdown}\n`);
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
