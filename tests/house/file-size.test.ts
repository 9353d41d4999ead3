/**
 * No source file over 400 lines (issue 16): a file that long holds several jobs and should be
 * split by job, as docs/architecture.md asks. Counted over the files git tracks (code in every
 * folder, tests and their support included), so a newcomer never meets a 600-line file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT } from '../support/env.ts';

const MAX_LINES = 400;

it(`no TypeScript file is over ${MAX_LINES} lines`, () => {
  const files = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.tsx', '*.mts'], { cwd: REPO_ROOT })
    .toString()
    .split('\0')
    .filter(Boolean);
  assert.ok(files.length > 100, `git lists ${files.length} files`);
  const long = files
    .map((f) => {
      try {
        return { f, lines: readFileSync(path.join(REPO_ROOT, f), 'utf8').split('\n').length - 1 };
      } catch {
        return { f, lines: 0 }; // deleted in the work tree
      }
    })
    .filter((x) => x.lines > MAX_LINES)
    .map((x) => `${x.f} (${x.lines})`);
  assert.deepEqual(long, [], `split by job: ${long.join(', ')}`);
});
