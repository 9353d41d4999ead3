/**
 * The file source's head under copytruncate, with the race made to happen on cue: logrotate copies
 * and truncates the file, and the writer fills it again, right after the source has looked at the
 * file's head. The source used to read the head twice in one look (once to compare it, once more
 * to lengthen a head shorter than HEAD_BYTES); a rewrite between the two reads gave the new
 * content's head to the old content's offset, so the new content was read from the middle (lines
 * lost) and the copy, matching nothing, from 0 (lines twice). The rotation here is real files; only
 * its timing is forced, by running it from inside the source's own read of the head. And a copy
 * found after a truncation to empty, of content the source has not read a byte of yet, once had
 * no head to match and was read from 0 beside its original; so did a copy found between logrotate's
 * copy and its truncation when the original had been truncated and written again since the
 * source's last look (its head in the source was still the old content's), and one found before
 * its truncation of a file that had sat empty (not decided yet) until the writer's first lines.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../../../support/env.ts';
import { fileHarness, type Harness } from './harness.ts';

let h: Harness | undefined;
let restore: (() => void) | undefined;
afterEach(async () => {
  restore?.();
  restore = undefined;
  await h?.close();
  h = undefined;
});

const numbered = (from: number, to: number, prefix: string) =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}\n`).join('');

/** Runs `then` once, right after the next read of a file's first bytes (a head read) returns. */
async function afterNextHeadRead(then: () => void): Promise<void> {
  const probe = await open(fileURLToPath(import.meta.url), 'r');
  const proto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const read = proto.read;
  let armed = true;
  proto.read = async function (this: unknown, ...args: unknown[]) {
    const result = await read.apply(this, args);
    if (armed && args[3] === 0) {
      armed = false;
      then();
    }
    return result;
  };
  restore = () => {
    proto.read = read;
  };
}

/**
 * Waits for the expected lines, then past the waits after which a file decides anyway (1.5 s for
 * an undecided copy, rotate_wait_secs for a copy's original): a copy wrongly read from 0 shows up
 * only then. Each expected line must be there once, and nothing else.
 */
async function expectEachOnce(harness: Harness, expected: string[]): Promise<void> {
  await waitFor(async () => ((await harness.events()).length >= expected.length ? true : undefined), {
    timeoutMs: 20_000,
    what: `${expected.length} lines`,
  });
  await new Promise((r) => setTimeout(r, 2500));
  const all = (await harness.events()).map((e) => e.message);
  assert.equal(all.length - new Set(all).size, 0, 'no line twice');
  assert.deepEqual([...all].sort(), [...expected].sort());
}

describe('file source head under copytruncate', () => {
  it('a rotation right after a look at a short head: the copy goes on from the offset, the new content from 0, each line once', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 5, 'old')); // 30 bytes: a head shorter than HEAD_BYTES
    await h.start({ paths: [`${file}*`], poll_interval_ms: 20 });
    await waitFor(async () => ((await h!.events()).length >= 5 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the first lines',
    });
    await afterNextHeadRead(() => {
      // logrotate's copytruncate, then the writer's next lines: past a whole head, so nothing of
      // the old content is left at the path.
      copyFileSync(file, `${file}.1`);
      truncateSync(file, 0);
      appendFileSync(file, numbered(0, 300, 'new'));
    });
    appendFileSync(file, numbered(5, 10, 'old')); // the file grows: the source looks at its head
    const expected = [
      ...numbered(0, 10, 'old').trimEnd().split('\n'),
      ...numbered(0, 300, 'new').trimEnd().split('\n'),
    ];
    await expectEachOnce(h, expected);
  });
  it('a copy made of content the source has not looked at yet, after a truncation to empty, is not read from 0 as well', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 5, 'old'));
    const config = { paths: [`${file}*`], poll_interval_ms: 400, rotate_wait_secs: 1 };
    await h.start(config);
    await waitFor(async () => ((await h!.events()).length >= 5 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the first lines',
    });
    // Truncated to empty, and seen so: the source goes on from 0 with no head to compare.
    truncateSync(file, 0);
    await new Promise((r) => setTimeout(r, 1000));
    // Between two looks: the writer fills the file, and logrotate copies it. The next look finds
    // the copy before the source has read a byte of the original's new content.
    appendFileSync(file, numbered(0, 300, 'new'));
    copyFileSync(file, `${file}.1`);
    const expected = [
      ...numbered(0, 5, 'old').trimEnd().split('\n'),
      ...numbered(0, 300, 'new').trimEnd().split('\n'),
    ];
    await expectEachOnce(h, expected);
  });
  it('a copy found before its truncation, of content written since the last look over the old, waits for the original to be read', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 5, 'old'));
    await h.start({ paths: [`${file}*`], poll_interval_ms: 400, rotate_wait_secs: 1 });
    await waitFor(async () => ((await h!.events()).length >= 5 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the first lines',
    });
    // Between two looks (synchronous: the source cannot look in between), a slow source misses
    // a whole rotation period: the file is truncated and written again, and logrotate's next copy
    // is made; its truncation comes after the source has looked.
    truncateSync(file, 0);
    appendFileSync(file, numbered(0, 300, 'new'));
    copyFileSync(file, `${file}.1`);
    await new Promise((r) => setTimeout(r, 1000));
    truncateSync(file, 0);
    const expected = [
      ...numbered(0, 5, 'old').trimEnd().split('\n'),
      ...numbered(0, 300, 'new').trimEnd().split('\n'),
    ];
    await expectEachOnce(h, expected);
  });
  it('a copy found before its truncation, of a file that sat empty past the wait, is not read from 0 beside it', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, ''); // empty from the start: not decided yet, and waiting longer than any patience
    await h.start({ paths: [`${file}*`], poll_interval_ms: 400, rotate_wait_secs: 1 });
    await new Promise((r) => setTimeout(r, 2000));
    // Between two looks: the writer's first lines, and logrotate's copy of them; its truncation
    // comes after the source has looked (the file-source bench's very first rotation).
    appendFileSync(file, numbered(0, 300, 'old'));
    copyFileSync(file, `${file}.1`);
    await new Promise((r) => setTimeout(r, 1000));
    truncateSync(file, 0);
    appendFileSync(file, numbered(0, 20, 'new'));
    const expected = [
      ...numbered(0, 300, 'old').trimEnd().split('\n'),
      ...numbered(0, 20, 'new').trimEnd().split('\n'),
    ];
    await expectEachOnce(h, expected);
  });
});
