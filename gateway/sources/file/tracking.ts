/**
 * Which files the file source follows, and from where: the tracking and rotation half of the
 * source (index.ts polls and reads). A file is its inode with its head (tracked.ts). Each look
 * expands the globs; a followed file no longer at its path is an orphan (renamed away or
 * deleted: read to its end, then let go), and the files a rotation faster than the looks renamed
 * past its path are found beside it (`findMissed`); after a restart, a file read before and renamed
 * since is found by its inode (`findRenamed`). A file not followed yet is opened at once (a rename
 * must not lose it) and `decide` picks where to start: its saved offset, the offset of the file it
 * is a copy of (copytruncate; a copy still being written waits), else 0 (or its end with
 * `start_at: end`). A truncated file starts over at 0, its old content remembered for its copy.
 */
import { open, stat } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FileSourceConfig } from './config.ts';
import { excluded, expandGlob, segmentRegExp } from './glob.ts';
import { readersAt, readHead, type SavedFile, sameStart, type Tracked } from './tracked.ts';

/** A new file whose start is a prefix of a followed file's head may be its copy still being written. */
const UNDECIDED_MS = 1500;
/** How long a truncated file's former content is looked for in new files. */
const FORMER_MS = 60_000;

/** The path in `dir` of the file whose `dev:ino` is `key`, if any. */
function findInode(dir: string, key: string): string | undefined {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const n of names) {
    try {
      const st = statSync(path.join(dir, n));
      if (st.isFile() && `${st.dev}:${st.ino}` === key) return path.join(dir, n);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

export interface FileTrackingOptions {
  config: FileSourceConfig;
  /** The source's state key prefix (`file/<name>/`): a file let go has its state deleted. */
  prefix: string;
  /** Counts an error of the source (receiving stage). */
  count(code: string): void;
}

export type FileTracking = ReturnType<typeof createFileTracking>;

export function createFileTracking({ config, prefix, count }: FileTrackingOptions) {
  const tracked = new Map<string, Tracked>();
  /** States read at start and not yet matched to a file. */
  let saved = new Map<string, SavedFile>();
  /** Files truncated lately, as they were: their copy (copytruncate) may show up after. */
  const formers: Array<{ head: Buffer; offset: number; at: number }> = [];
  /** Files let go lately, as they ended (bounded): found again, they go on from there. */
  const retired = new Map<string, { head: Buffer; offset: number }>();
  const remember = (key: string, r: { head: Buffer; offset: number }) => {
    retired.delete(key);
    retired.set(key, r);
    if (retired.size > 1000) retired.delete(retired.keys().next().value!);
  };
  /** Files renamed away in this look. */
  const siblings = new Set<Tracked>();
  /** State keys to delete with the next write (files let go). */
  const deletes = new Set<string>();
  const excludeBase = config.exclude.filter((p) => !p.includes('/')).map(segmentRegExp);
  const excludePath = config.exclude.filter((p) => p.includes('/')).map(segmentRegExp);
  let firstScan = true;

  const restartAt = async (t: Tracked, offset: number) => {
    const r = readersAt(config, offset);
    t.splitter = r.splitter;
    t.multiline = r.multiline;
    t.offset = offset;
    t.readPos = offset;
    t.head = await readHead(t.fd, t.size);
  };

  /** `t` was truncated or rewritten: its old content is remembered (a copy may show up), read from 0. */
  const startOver = async (t: Tracked, size: number) => {
    count('file_truncated');
    formers.push({ head: t.head, offset: t.offset, at: Date.now() });
    t.size = size;
    await restartAt(t, 0);
  };

  /** Starts following a file not followed yet: open at once (a rename must not lose it), then decide. */
  const discover = async (key: string, file: string): Promise<void> => {
    if (tracked.size >= config.max_open_files) return count('too_many_files');
    let fd;
    try {
      fd = await open(file, 'r');
    } catch {
      return count('file_open');
    }
    let st = await fd.stat();
    let orphan = false;
    if (`${st.dev}:${st.ino}` !== key) {
      // Rotated between the look and the open: the file is beside its old path, under another name.
      await fd.close();
      const moved = findInode(path.dirname(file), key);
      if (!moved) return count('file_vanished');
      try {
        fd = await open(moved, 'r');
      } catch {
        return count('file_open');
      }
      st = await fd.stat();
      if (`${st.dev}:${st.ino}` !== key) {
        await fd.close();
        return count('file_vanished');
      }
      file = moved;
      orphan = true;
    }
    const r = readersAt(config, 0);
    const t: Tracked = {
      key,
      path: file,
      fd,
      offset: 0,
      readPos: 0,
      head: Buffer.alloc(0),
      splitter: r.splitter,
      multiline: r.multiline,
      size: st.size,
      activeAt: Date.now(),
      orphan,
      orphanSince: Date.now(),
      seenAt: orphan ? 0 : Date.now(),
      retryAt: 0,
      undecidedSince: Date.now(),
      fromEnd: firstScan && config.start_at === 'end',
    };
    tracked.set(key, t);
    await decide(t);
  };

  /**
   * Where to start in a new file: its own saved offset when its start is what was read, the
   * offset of the file it is a copy of (copytruncate), else 0. A file that is empty, or whose
   * bytes so far are the start of a followed file's head (a copy being written), waits; so
   * does a copy shorter than its original's offset while it grows.
   */
  const decide = async (t: Tracked): Promise<void> => {
    const size = (await t.fd.stat()).size;
    const head = await readHead(t.fd, size);
    let offset: number | undefined;
    const own = saved.get(t.key);
    if (own) {
      saved.delete(t.key);
      if (sameStart(head, own) && own.offset <= size) offset = own.offset;
    }
    // A file let go and found again (its name came back into the globs): on from where it was.
    const before = retired.get(t.key);
    if (offset === undefined && before && head.subarray(0, before.head.length).equals(before.head))
      offset = Math.min(before.offset, size);
    let undecided = size === 0;
    /** The offset of the file this one is wholly the start of (a short file's copy), if any. */
    let within: number | undefined;
    const waited = Date.now() - t.undecidedSince!;
    const patience = Math.max(UNDECIDED_MS, 4 * config.poll_interval_ms);
    if (offset === undefined && waited < patience && (await unknownContent(t.key))) {
      // A followed file holds content the source has not looked at yet (restarted on an empty
      // file and grown since, or truncated and written again since its last look): this file may
      // be its copy (logrotate copies, then truncates) with nothing to tell so. Decided at 0 now,
      // it would be read from 0 while the original is read from 0 too. The original's next read
      // gives it the new head, which this file then matches.
      return;
    }
    if (offset === undefined) {
      for (const o of others(t.key)) {
        if (o.head) {
          if (o.head.length === 0) continue;
          if (head.length >= o.head.length && head.subarray(0, o.head.length).equals(o.head)) {
            // A copy of a file still followed and not truncated yet (logrotate copies, then
            // truncates): the original may still be read on past its offset now, which the copy
            // would read again. Wait until the original is truncated (its offset is then final,
            // kept among the formers), or for rotate_wait_secs when it never is (a plain copy).
            if (o.live && waited < Math.max(patience, config.rotate_wait_secs * 1000)) return;
            offset = o.offset;
            break;
          }
          if (head.length < o.head.length && o.head.subarray(0, head.length).equals(head)) {
            undecided = true;
            // Maybe a whole copy of a file shorter than a head when copied (it grew before it
            // was truncated): every byte of it is in that file, read up to its offset. Only a
            // truncated file's (copytruncate's sign); a followed one is waited for as above.
            if (o.live) {
              if (waited < Math.max(patience, config.rotate_wait_secs * 1000)) return;
            } else within ??= o.offset;
          }
        } else if (o.saved && o.saved.fpLen > 0) {
          if (sameStart(head, o.saved)) {
            offset = o.offset;
            break;
          }
          if (head.length < o.saved.fpLen) undecided = true;
        }
      }
    }
    if (offset === undefined && undecided) {
      if (size === 0 || waited < patience) return;
      if (within !== undefined) {
        // Still the start of a file read before, and no longer growing: a copy of it, read
        // where that file was (from 0 it would give its lines twice).
        const grew = size !== t.size;
        t.size = size;
        if (grew) return;
        offset = within;
      }
    }
    if (offset !== undefined && offset > size) {
      // A copy still being written (logrotate copies while we look): starting at its size now
      // would read again what the original gave. Wait until it reaches the offset, or stops
      // growing short of it (the original was read past the copy's end).
      const grew = size !== t.size;
      t.size = size;
      if (grew || waited < patience) return;
    }
    offset ??= t.fromEnd ? size : 0;
    t.undecidedSince = undefined;
    t.size = size;
    await restartAt(t, Math.min(offset, size));
  };

  /**
   * Whether a followed file other than `except` holds bytes its head does not describe: restarted
   * on an empty file and grown since, or rewritten (truncated and written again) since its last
   * look, which a slow look misses when logrotate runs every fraction of a second. Asked of the
   * files now, not kept as a flag: a flag set at a restart on an empty file would hold every new
   * file back UNDECIDED_MS beside a quiet truncated log, and a rewrite between looks is seen by
   * no one. Only asked while a new file is undecided: a stat or one head read per followed file.
   * A file found before `except` and itself undecided with bytes in it counts too (one that sat
   * empty, then was written and copied between two looks): decided first, it is the original.
   */
  const unknownContent = async (except: string): Promise<boolean> => {
    let older = true;
    for (const o of tracked.values()) {
      if (o.key === except) {
        older = false;
        continue;
      }
      // A newer undecided file waits for this one, never the reverse.
      if (o.undecidedSince !== undefined && !older) continue;
      try {
        // No head to compare (undecided, or empty when looked at): any byte is unknown content.
        const headless = o.undecidedSince !== undefined || o.head.length === 0;
        if (headless ? (await o.fd.stat()).size > 0 : !(await readHead(o.fd, o.head.length)).equals(o.head))
          return true;
      } catch {
        // Closed meanwhile (let go): nothing to wait for.
      }
    }
    return false;
  };

  /** What a new file may be a copy of: the files followed, files just truncated, states not matched. */
  const others = (
    except: string,
  ): Array<{ head?: Buffer; saved?: SavedFile; offset: number; live?: boolean }> => {
    const now = Date.now();
    while (formers.length > 0 && now - formers[0]!.at > FORMER_MS) formers.shift();
    return [
      ...[...tracked.values()]
        .filter((t) => t.key !== except && t.undecidedSince === undefined)
        .map((t) => ({ head: t.head, offset: t.offset, live: true })),
      ...formers,
      ...[...saved.values()].map((s) => ({ saved: s, offset: s.offset })),
    ];
  };

  /**
   * The files a rotation renamed past a followed path between two looks: beside `t` (renamed
   * away), named like it (`app.log.1`, `app.log-20261205`), created after `t` was last seen at
   * its path, and not followed. They are followed as renamed files.
   */
  const findMissed = async (t: Tracked): Promise<void> => {
    const dir = path.dirname(t.path);
    const base = path.basename(t.path);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (!n.startsWith(base)) continue;
      const p = path.join(dir, n);
      if (excluded(p, excludeBase, excludePath)) continue;
      try {
        const st = statSync(p);
        const key = `${st.dev}:${st.ino}`;
        // Created after `t` was last seen at its path (birth time; where the file system has none, no guess).
        const born = st.birthtimeMs > 0 ? st.birthtimeMs : Number.NEGATIVE_INFINITY;
        if (!st.isFile() || tracked.has(key) || retired.has(key) || born < t.seenAt - 1000) continue;
        await discover(key, p);
        const m = tracked.get(key);
        if (m) m.orphan = true;
      } catch {
        // Gone meanwhile.
      }
    }
  };

  /** A file read before the stop and renamed away since: found by its inode beside its old path. */
  const findRenamed = async (key: string, s: SavedFile): Promise<void> => {
    const moved = findInode(path.dirname(s.path), key);
    if (moved) await discover(key, moved);
    const t = tracked.get(key);
    if (t) t.orphan = true;
    else {
      saved.delete(key);
      deletes.add(prefix + key);
    }
  };

  /** One look: expand the globs, note files renamed away, follow new ones, find what rotations hid. */
  const look = async (): Promise<void> => {
    const found = new Map<string, { file: string; size: number }>();
    for (const glob of config.paths) {
      for (const file of expandGlob(glob)) {
        if (excluded(file, excludeBase, excludePath)) continue;
        try {
          const st = await stat(file);
          if (st.isFile()) found.set(`${st.dev}:${st.ino}`, { file, size: st.size });
        } catch {
          // Gone between the listing and the look.
        }
      }
    }
    const now = Date.now();
    for (const t of tracked.values()) {
      const f = found.get(t.key);
      if (!f && !t.orphan) {
        t.orphanSince = now;
        // Renamed away: a rotation faster than the look may have renamed a newer file past its
        // path. Undecided files too: the file `create` leaves at the path is empty at its first
        // look, and when the rotations outpace the looks, it is the only one seen there.
        siblings.add(t);
      }
      t.orphan = !f;
      if (f) {
        t.path = f.file;
        t.seenAt = now;
      }
    }
    const fresh = new Set<string>();
    for (const [key, f] of found) {
      if (tracked.has(key)) continue;
      await discover(key, f.file);
      fresh.add(f.file);
    }
    // A new file at a path whose last file was renamed away in an earlier look: a look that came
    // while the path was empty (between logrotate's rename and its create) left nothing to find
    // then, and files created and rotated past the path since would never be looked for. The
    // orphan last seen there is asked again for what was born after it.
    const latest = new Map<string, Tracked>();
    for (const t of tracked.values()) {
      if (!t.orphan || !fresh.has(t.path) || siblings.has(t)) continue;
      const l = latest.get(t.path);
      if (!l || t.seenAt > l.seenAt) latest.set(t.path, t);
    }
    for (const t of latest.values()) siblings.add(t);
    for (const t of siblings) await findMissed(t);
    siblings.clear();
    if (firstScan) {
      for (const [key, s] of [...saved]) if (!tracked.has(key)) await findRenamed(key, s);
      firstScan = false;
    }
  };

  return {
    /** The files followed, by `dev:ino`. */
    tracked,
    /** State keys to delete with the next write. */
    deletes,
    /** The states the queue kept (read at start), by file key. */
    load(states: Map<string, SavedFile>) {
      saved = states;
    },
    look,
    decide,
    restartAt,
    startOver,
    remember,
  };
}
