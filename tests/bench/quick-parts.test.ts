/**
 * The quick bench check is dealt to PARTS test files by hand (support/quick-check.ts): a part
 * without its file would leave its benchmarks unchecked, and nothing else would say so. The
 * files must be bench-quick-1..PARTS.test.ts, each running its own part.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { PARTS } from './support/quick-check.ts';

const DIR = path.dirname(fileURLToPath(import.meta.url));

test('there is one bench-quick-N.test.ts per part of the quick bench check, each running its part', () => {
  const files = readdirSync(DIR)
    .filter((f) => /^bench-quick-\d+\.test\.ts$/.test(f))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  assert.deepEqual(
    files,
    Array.from({ length: PARTS }, (_, i) => `bench-quick-${i + 1}.test.ts`),
    `PARTS is ${PARTS}`,
  );
  for (const [i, f] of files.entries()) {
    const calls = [...readFileSync(path.join(DIR, f), 'utf8').matchAll(/quickBenchSuite\((\d+)\)/g)];
    assert.deepEqual(
      calls.map((m) => Number(m[1])),
      [i + 1],
      `${f} runs quickBenchSuite(${i + 1}) once`,
    );
  }
});
