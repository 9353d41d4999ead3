/**
 * The tracking half of the file source on its own (gateway/sources/file/tracking.ts), with no
 * reading loop: a look follows the files the globs match (excluded ones aside) and decides where
 * each starts; a saved state whose head still matches resumes at its offset; a copy of a
 * truncated file (copytruncate) starts at the original's offset; a file renamed away becomes an
 * orphan and the newer files a rotation renamed past its path between two looks are found beside
 * it; a file read before a stop and renamed since is found by its inode, and a vanished one's
 * state is deleted; `start_at: end` starts the files of the first look at their end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileSourceSchema } from '../../../../gateway/sources/file/config.ts';
import { fingerprint, type SavedFile } from '../../../../gateway/sources/file/tracked.ts';
import { createFileTracking, type FileTracking } from '../../../../gateway/sources/file/tracking.ts';

const dirs: string[] = [];
const trackings: FileTracking[] = [];
after(async () => {
  for (const t of trackings) for (const f of t.tracked.values()) await f.fd.close().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-tracking-'));
  dirs.push(dir);
  return dir;
}

/** A tracking of `globs` in `dir`; `counted` collects the error codes it counts. */
function tracking(dir: string, globs: string[], extra: Record<string, unknown> = {}) {
  const config = fileSourceSchema.parse({
    type: 'file',
    paths: globs.map((g) => path.join(dir, g)),
    ...extra,
  });
  const counted: string[] = [];
  const t = createFileTracking({ config, prefix: 'file/t/', count: (code) => counted.push(code) });
  trackings.push(t);
  const byName = (name: string) => [...t.tracked.values()].find((f) => path.basename(f.path) === name);
  return { t, counted, byName };
}

const savedState = (file: string, offset: number, head: string): SavedFile => ({
  path: file,
  offset,
  fp: fingerprint(Buffer.from(head)),
  fpLen: Buffer.byteLength(head),
});

test('a look follows the matching files, not the excluded ones, each decided at once from its start', async () => {
  const dir = tempDir();
  const { t, byName } = tracking(dir, ['*.log'], { exclude: ['skip-*.log'] });
  writeFileSync(path.join(dir, 'app.log'), 'one\ntwo\n');
  writeFileSync(path.join(dir, 'skip-me.log'), 'no\n');
  writeFileSync(path.join(dir, 'notes.txt'), 'not matched\n');
  await t.look();
  assert.deepEqual(
    [...t.tracked.values()].map((f) => path.basename(f.path)),
    ['app.log'],
  );
  const app = byName('app.log')!;
  assert.equal(app.undecidedSince, undefined);
  assert.equal(app.offset, 0);
  assert.equal(app.head.toString(), 'one\ntwo\n');
});

test('start_at: end starts the files of the first look at their end, later ones at 0', async () => {
  const dir = tempDir();
  const { t, byName } = tracking(dir, ['*.log'], { start_at: 'end' });
  writeFileSync(path.join(dir, 'old.log'), 'before the start\n');
  await t.look();
  assert.equal(byName('old.log')!.offset, 'before the start\n'.length);
  writeFileSync(path.join(dir, 'new.log'), 'after\n');
  await t.look();
  assert.equal(byName('new.log')!.offset, 0);
});

test('a saved state resumes at its offset when the head matches, from 0 when the content was replaced', async () => {
  const dir = tempDir();
  const content = 'line 1\nline 2\nline 3\n';
  writeFileSync(path.join(dir, 'kept.log'), content);
  writeFileSync(path.join(dir, 'other.log'), 'entirely new content\n');
  const first = tracking(dir, ['*.log']);
  await first.t.look(); // the keys (dev:ino) states are stored under
  const key = (name: string) => first.byName(name)!.key;
  const { t, byName } = tracking(dir, ['*.log']);
  t.load(
    new Map([
      [key('kept.log'), savedState(path.join(dir, 'kept.log'), 7, content)],
      [key('other.log'), savedState(path.join(dir, 'other.log'), 5, 'what was there before\n')],
    ]),
  );
  await t.look();
  assert.equal(byName('kept.log')!.offset, 7);
  assert.equal(byName('other.log')!.offset, 0);
});

test('copytruncate: the truncated file starts over (counted) and its copy starts at its offset', async () => {
  const dir = tempDir();
  const { t, counted, byName } = tracking(dir, ['app.log*']);
  const live = path.join(dir, 'app.log');
  writeFileSync(live, 'a\nb\nc\n');
  await t.look();
  const original = byName('app.log')!;
  original.offset = 4; // read and committed up to here
  writeFileSync(path.join(dir, 'app.log.1'), 'a\nb\nc\n');
  writeFileSync(live, '');
  await t.startOver(original, 0);
  assert.deepEqual(counted, ['file_truncated']);
  assert.equal(original.offset, 0);
  await t.look();
  const copy = byName('app.log.1')!;
  assert.equal(copy.undecidedSince, undefined);
  assert.equal(copy.offset, 4, 'read on from where the original was');
});

test('renamed away: an orphan; the newer file a rotation renamed past the path is found beside it', async () => {
  const dir = tempDir();
  const { t, byName } = tracking(dir, ['app.log']);
  const live = path.join(dir, 'app.log');
  writeFileSync(live, 'first generation\n');
  await t.look();
  const first = byName('app.log')!;
  // Two rotations between looks: the first file ends up as .2, the second (never seen) as .1.
  renameSync(live, path.join(dir, 'app.log.2'));
  writeFileSync(live, 'second generation\n');
  renameSync(live, path.join(dir, 'app.log.1'));
  writeFileSync(live, 'third generation\n');
  await t.look();
  assert.equal(first.orphan, true, 'the first file, renamed away (read on by its descriptor)');
  assert.equal(t.tracked.size, 3);
  const missed = byName('app.log.1');
  assert.equal(missed?.orphan, true, 'the second file, never seen at the path, found beside it');
  assert.equal(missed.head.toString(), 'second generation\n');
  const current = [...t.tracked.values()].find((f) => !f.orphan);
  assert.equal(current?.head.toString(), 'third generation\n');
});

test('a file read before the stop and renamed since is found by its inode; a vanished one is let go', async () => {
  const dir = tempDir();
  const content = 'read before the stop\n';
  writeFileSync(path.join(dir, 'app.log'), content);
  const first = tracking(dir, ['app.log']);
  await first.t.look();
  const key = first.byName('app.log')!.key;
  renameSync(path.join(dir, 'app.log'), path.join(dir, 'app.log.1'));
  const { t } = tracking(dir, ['app.log']);
  t.load(
    new Map([
      [key, savedState(path.join(dir, 'app.log'), 5, content)],
      ['0:1', savedState(path.join(dir, 'gone.log'), 3, 'x')],
    ]),
  );
  await t.look();
  const found = t.tracked.get(key)!;
  assert.equal(path.basename(found.path), 'app.log.1');
  assert.equal(found.orphan, true);
  assert.equal(found.offset, 5);
  assert.deepEqual([...t.deletes], ['file/t/0:1'], "the vanished file's state goes with the next write");
});
