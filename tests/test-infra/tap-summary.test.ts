/**
 * The end of `npm test` (tests/support/tap-summary.ts) on real TAP from Node's runner: cancelled
 * tests count as failed, a skipped suite counts as skipped, the skip table groups the
 * `missing ...` reasons with their commands, the last line agrees with the exit status, a run
 * that counts no tests fails, and under CI=true a skip for something missing is a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { formatMissing, parseMissing } from '../support/env.ts';
import { summarize } from '../support/tap-summary.ts';

const work = mkdtempSync(path.join(tmpdir(), 'siem-tap-'));
after(() => rmSync(work, { recursive: true, force: true }));

const CHROMIUM = formatMissing({
  what: 'chromium',
  detail: 'not found on PATH',
  provide: 'sudo apt-get install chromium',
});
const DATA = (file: string) =>
  formatMissing({ what: 'third-party test data', detail: `${file} not found`, provide: 'npm run test:data' });

/** Runs `source` as a test file under Node's runner and returns its TAP and exit code. */
function tapOf(source: string): { tap: string; code: number } {
  const file = path.join(work, `t${Math.random().toString(36).slice(2)}.test.mjs`);
  writeFileSync(file, source);
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { env, encoding: 'utf8' });
  return { tap: run.stdout, code: run.status ?? 1 };
}

test('the reason form round-trips', () => {
  assert.deepEqual(parseMissing(DATA('ndpi/syslog.pcap')), {
    what: 'third-party test data',
    detail: 'ndpi/syslog.pcap not found',
    provide: 'npm run test:data',
  });
  assert.equal(parseMissing('no browser'), undefined);
});

test('cancelled tests count as failed, and the exit status agrees', () => {
  const { tap, code } = tapOf(`import { describe, it, before } from 'node:test';
    describe('s', () => { before(() => { throw new Error('hook'); }); it('a', () => {}); it('b', () => {}); });
    it('ok', () => {});`);
  assert.notEqual(code, 0);
  const s = summarize(tap, code, false);
  assert.equal(s.failed, 2);
  assert.equal(s.ok, false);
  assert.equal(s.lines.at(-1), 'tests: 1 passed, 2 failed, 0 skipped');
});

test('skips are grouped by what is missing, with the command; a skipped suite counts', () => {
  const { tap, code } = tapOf(`import { describe, it } from 'node:test';
    it('a', (t) => t.skip(${JSON.stringify(CHROMIUM)}));
    it('b', (t) => t.skip(${JSON.stringify(CHROMIUM)}));
    it('c', (t) => t.skip(${JSON.stringify(DATA('x.pcap'))}));
    it('d', (t) => t.skip(${JSON.stringify(DATA('y.pcap'))}));
    describe('pg', { skip: ${JSON.stringify(DATA('z.csv'))} }, () => { it('e', () => {}); });
    it('f', (t) => t.skip('not reopenable'));
    it('g', () => {});`);
  assert.equal(code, 0);
  const s = summarize(tap, code, false);
  assert.equal(s.ok, true);
  assert.equal(s.lines.at(-1), 'tests: 1 passed, 0 failed, 6 skipped');
  const table = s.lines.join('\n');
  assert.match(table, /chromium +2 +sudo apt-get install chromium/);
  assert.match(table, /third-party test data \(3 files\) +3 +npm run test:data/);
  assert.match(table, /\(other\) not reopenable +1 +-/);
});

test('under CI=true a skip for something missing fails the run', () => {
  const { tap, code } = tapOf(`import { it } from 'node:test';
    it('a', (t) => t.skip(${JSON.stringify(CHROMIUM)}));
    it('b', () => {});`);
  const s = summarize(tap, code, true);
  assert.equal(s.ok, false);
  assert.equal(s.lines.at(-1), 'tests: 1 passed, 1 failed, 1 skipped');
});

test('a run that counts no tests fails; so does a runner failure with no failing test', () => {
  const empty = summarize('TAP version 13\n1..0\n# tests 0\n# pass 0\n# fail 0\n', 0, false);
  assert.equal(empty.ok, false);
  assert.equal(empty.lines.at(-1), 'tests: 0 passed, 1 failed, 0 skipped');
  const { tap } = tapOf(`import { it } from 'node:test'; it('a', () => {});`);
  const crashed = summarize(tap, 7, false);
  assert.equal(crashed.ok, false);
  assert.equal(crashed.lines.at(-1), 'tests: 1 passed, 1 failed, 0 skipped');
});

test('a file that fails outside its tests is named with what Node said of it', () => {
  const { tap, code } = tapOf(`import { describe, it, after } from 'node:test';
    describe('s', () => {
      after(() => { setTimeout(() => { throw new Error('late boom'); }, 10); });
      it('a', () => {});
    });`);
  assert.notEqual(code, 0);
  const s = summarize(tap, code, false);
  assert.equal(s.ok, false);
  const text = s.lines.join('\n');
  assert.match(text, /» \S+\.test\.mjs failed outside its tests \(exit code 1\); what it printed last:/);
  assert.match(text, /generated asynchronous activity after the test ended.*late boom/);
  assert.equal(s.lines.at(-1), 'tests: 1 passed, 1 failed, 0 skipped');
});
