/**
 * The file source against Debian's `logrotate`, rotating a log every few hundred milliseconds
 * while a writer process appends to it (40,000 numbered lines)
 * (about 10,000 lines/s; a rotation every half second or so: a file must stay at a followed
 * path for a poll interval to be found, see docs/sources.md):
 * - `create` (rename): the writer reopens the path every 20 lines, as `>>` does, so it keeps
 *   writing into the renamed file for a moment; the source follows `app.log` only. Every line
 *   written is queued exactly once.
 * - `copytruncate`: the writer keeps its file open (O_APPEND); the source follows `app.log*`, so
 *   it sees the copies. No line is queued twice, every line on disk at the end is queued, and the
 *   lines in no file (written between logrotate's copy and its truncate: logrotate(8) says they
 *   may be lost) are reported, not asserted away.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, it } from 'node:test';
import { requireTool, waitFor } from '../support/env.ts';
import { fileHarness, type Harness } from '../gateway/sources/file/harness.ts';

const run = promisify(execFile);
const TOTAL = 40_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A writer process: TOTAL numbered lines, reopening the path every `reopenEvery` lines (0: never). */
function writer(file: string, reopenEvery: number) {
  const script = `
    const fs = require('node:fs');
    const [file, total, every] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
    let fd = fs.openSync(file, 'a');
    let i = 0;
    const step = () => {
      for (let k = 0; k < 100 && i < total; k++, i++) {
        if (every > 0 && i % every === 0) { fs.closeSync(fd); fd = fs.openSync(file, 'a'); }
        fs.writeSync(fd, 'event ' + i + ' pump=on level=' + (i % 97) + '\\n');
      }
      if (i < total) setTimeout(step, 10); else fs.closeSync(fd);
    };
    step();`;
  const child = spawn(process.execPath, ['-e', script, file, String(TOTAL), String(reopenEvery)], {
    stdio: 'inherit',
  });
  return new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
  });
}

async function rotateWhile(
  dir: string,
  mode: 'create' | 'copytruncate',
  done: () => boolean,
): Promise<number> {
  const conf = path.join(dir, 'logrotate.conf');
  writeFileSync(
    conf,
    `${path.join(dir, 'app.log')} {\n  rotate 1000\n  ${mode}\n  missingok\n  nocompress\n}\n`,
  );
  let rotations = 0;
  while (!done()) {
    await run('logrotate', ['-f', '-s', path.join(dir, 'logrotate.state'), conf]);
    rotations++;
    await new Promise((r) => setTimeout(r, 400));
  }
  return rotations;
}

const lineNo = (message: string) => Number(/^event (\d+) /.exec(message)?.[1]);

async function queuedNumbers(hh: Harness): Promise<number[]> {
  return (await hh.events()).map((e) => lineNo(e.message));
}

function onDisk(dir: string): Set<number> {
  const out = new Set<number>();
  for (const name of readdirSync(dir).filter((n) => n.startsWith('app.log'))) {
    for (const l of readFileSync(path.join(dir, name), 'utf8').split('\n')) if (l) out.add(lineNo(l));
  }
  return out;
}

describe('file source under logrotate', () => {
  it(
    'create (rename) under load: every line written is queued exactly once',
    { timeout: 180_000 },
    async (t) => {
      if (!requireTool(t, 'logrotate', 'logrotate')) return;
      h = await fileHarness();
      const dir = path.join(h.dir, 'logs');
      await run('mkdir', ['-p', dir]);
      const file = path.join(dir, 'app.log');
      writeFileSync(file, '');
      await h.start({ paths: [file], poll_interval_ms: 50, rotate_wait_secs: 1 });
      let finished = false;
      const writing = writer(file, 20).finally(() => {
        finished = true;
      });
      const rotations = await rotateWhile(dir, 'create', () => finished);
      await writing;
      const hh = h;
      const got = await waitFor(
        async () => {
          const n = await queuedNumbers(hh);
          return n.length >= TOTAL ? n : undefined;
        },
        { timeoutMs: 60_000, what: `${TOTAL} lines queued` },
      );
      await new Promise((r) => setTimeout(r, 1500)); // anything more would be a duplicate
      const final = await queuedNumbers(h);
      assert.ok(rotations >= 3, `logrotate rotated ${rotations} times`);
      assert.equal(final.length, TOTAL, 'no line twice');
      assert.equal(new Set(got).size, TOTAL, 'every line once');
      t.diagnostic(`rotations: ${rotations}, files: ${readdirSync(dir).length - 2}`);
    },
  );

  it('copytruncate under load: no line twice, every line on disk queued', { timeout: 180_000 }, async (t) => {
    if (!requireTool(t, 'logrotate', 'logrotate')) return;
    h = await fileHarness();
    const dir = path.join(h.dir, 'logs');
    await run('mkdir', ['-p', dir]);
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    await h.start({ paths: [`${file}*`], poll_interval_ms: 50, rotate_wait_secs: 1 });
    let finished = false;
    const writing = writer(file, 0).finally(() => {
      finished = true;
    });
    const rotations = await rotateWhile(dir, 'copytruncate', () => finished);
    await writing;
    const disk = onDisk(dir);
    const hh = h;
    await waitFor(
      async () => {
        const have = new Set(await queuedNumbers(hh));
        return [...disk].every((n) => have.has(n)) ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'every line on disk queued' },
    );
    await new Promise((r) => setTimeout(r, 1500));
    const final = await queuedNumbers(h);
    const unique = new Set(final);
    assert.ok(rotations >= 3, `logrotate rotated ${rotations} times`);
    assert.equal(final.length, unique.size, 'no line twice');
    for (const n of unique) assert.ok(n >= 0 && n < TOTAL, 'only lines written');
    const lostByLogrotate = TOTAL - new Set([...disk, ...unique]).size;
    t.diagnostic(
      `rotations: ${rotations}; queued ${unique.size}; lines on no file (copy→truncate window): ${lostByLogrotate}`,
    );
    // The window is a few lines per rotation at most, never a whole file.
    assert.ok(lostByLogrotate <= rotations * 400, `${lostByLogrotate} lines lost in ${rotations} rotations`);
  });
});
