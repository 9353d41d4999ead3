/**
 * tests/data/MANIFEST.tsv against the data it describes: every row pins an upstream revision
 * and licence (or a derive command), every file in the data folder has the recorded sha256 and
 * size, the data the tests name is listed, and no third-party file is committed to the
 * repository (several licences forbid it to travel with the product).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readManifest, sha256 } from '../data/fetch.ts';
import { REPO_ROOT, SHARED_DATA, sharedData } from '../support/env.ts';

const entries = readManifest();

test('every manifest row names its source and licence, or how it is derived', () => {
  assert.ok(entries.length > 300, `${entries.length} rows`);
  assert.equal(new Set(entries.map((e) => e.path)).size, entries.length, 'a path listed twice');
  for (const e of entries) {
    assert.ok(e.licence, `${e.path}: no licence`);
    if (e.derive) continue;
    assert.match(e.repo, /^[\w.-]+\/[\w.-]+$/, `${e.path}: repository`);
    assert.match(e.commit, /^[0-9a-f]{40}$/, `${e.path}: a pinned commit, not a branch`);
    assert.ok(e.upstreamPath, `${e.path}: upstream path`);
  }
});

test('the data folder holds every manifest file with its sha256 and size', (t) => {
  if (!sharedData(t, 'syslog', 'loghub', 'Linux_2k.log')) return;
  const wrong: string[] = [];
  for (const e of entries) {
    const file = path.join(SHARED_DATA, e.path);
    if (!existsSync(file)) wrong.push(`${e.path}: absent`);
    else if (statSync(file).size !== e.bytes || sha256(readFileSync(file)) !== e.sha256)
      wrong.push(`${e.path}: sha256 or size differs`);
  }
  assert.deepEqual(wrong, []);
});

test('every data path a test names literally is in the manifest', () => {
  const listed = new Set(entries.map((e) => e.path));
  // Directories a test lists (sharedData(t, 'sigma')) are covered by the files under them.
  const covered = (p: string) => listed.has(p) || entries.some((e) => e.path.startsWith(`${p}/`));
  const missing: string[] = [];
  let checked = 0;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
    );
  for (const file of walk(path.join(REPO_ROOT, 'tests'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/sharedData\(\s*t,\s*((?:'[^']+',?\s*)+)\)/g)) {
      const p = [...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]).join('/');
      checked += 1;
      if (!covered(p)) missing.push(`${path.relative(REPO_ROOT, file)}: ${p}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked > 40, `only ${checked} sharedData calls found: the pattern no longer matches them`);
});

test('no third-party test file is committed to the repository', () => {
  const pinned = new Map(entries.map((e) => [e.sha256, e.path]));
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && existsSync(path.join(REPO_ROOT, f)) && statSync(path.join(REPO_ROOT, f)).isFile());
  assert.ok(tracked.length > 100, `${tracked.length} tracked files`);
  const found = tracked
    .map((f) => [f, pinned.get(sha256(readFileSync(path.join(REPO_ROOT, f))))] as const)
    .filter(([, third]) => third)
    .map(([f, third]) => `${f} is ${third}`);
  assert.deepEqual(found, []);
});
