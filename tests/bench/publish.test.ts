/**
 * Which benchmark runs replace the published report in docs/benchmarks/, and what replacing it
 * writes: only a complete run (every benchmark, full sizes, none failed, no --out) publishes; the
 * published charts are exactly the new report's (a chart the report no longer draws is removed).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { publishedMarkdown, whyNotPublished, writeReport } from './publish.ts';

test('only a complete run replaces the published report', () => {
  const complete = { quick: false, filters: [], outAsked: false, failed: 0 };
  assert.equal(whyNotPublished(complete), null);
  assert.match(whyNotPublished({ ...complete, quick: true })!, /quick/);
  assert.match(whyNotPublished({ ...complete, filters: ['syslog'] })!, /some benchmarks/);
  assert.match(whyNotPublished({ ...complete, outAsked: true })!, /output directory/);
  assert.match(whyNotPublished({ ...complete, failed: 1 })!, /failed/);
});

test('publishing writes the Markdown and the charts, and removes charts no longer drawn', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-publish-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'old-chart.svg'), '<svg/>');
  writeFileSync(path.join(dir, 'notes.txt'), 'kept');
  const markdown = '# Benchmark report\n\n| a | b |\n\n![peers.svg](peers.svg)\n';
  writeReport(
    dir,
    'latest',
    { markdown: publishedMarkdown(markdown), charts: new Map([['peers.svg', '<svg>new</svg>']]) },
    { replaceCharts: true },
  );
  assert.deepEqual(readdirSync(dir).sort(), ['latest.md', 'notes.txt', 'peers.svg']);
  assert.equal(readFileSync(path.join(dir, 'peers.svg'), 'utf8'), '<svg>new</svg>');
  const published = readFileSync(path.join(dir, 'latest.md'), 'utf8');
  assert.ok(published.startsWith('# Benchmark report\n\n'), published);
  assert.match(published, /\]\(\.\.\/benchmarks\.md\)/);
  assert.ok(published.endsWith(markdown.slice('# Benchmark report\n'.length)), published);

  // Without replaceCharts (a run's own output directory) nothing else is removed; JSON is written.
  writeReport(dir, 'report', { markdown, json: '{}\n', charts: new Map() });
  assert.ok(existsSync(path.join(dir, 'peers.svg')));
  assert.equal(readFileSync(path.join(dir, 'report.json'), 'utf8'), '{}\n');
});
