/**
 * The file source: follows the files its globs match and hands their lines (or multi-line
 * records) to the pipeline, with the offset reached written in the same queue batch as the
 * events (gateway/queue/SPEC.md §10). So after a stop, a crash or a SIGKILL it resumes exactly
 * after the last record made durable: no line twice, none lost. Rotation: a file renamed away is
 * read to its end (until idle `rotate_wait_secs`), the new file from its start; a truncated file
 * (copytruncate) from 0, and its copy, when the globs match it, from the original's offset
 * (tracked.ts tells files apart). One loop polls every `poll_interval_ms`: expand the globs, look
 * at each file, read what is new, hand it on and wait until it is durable before reading on.
 */
import { open, stat } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { Source, SourceContext } from '../../pipeline/types.ts';
import type { FileSourceConfig } from './config.ts';
import { excluded, expandGlob, segmentRegExp } from './glob.ts';
import { type FileRecord, lineRecord } from './multiline.ts';
import { recordToEvent } from './to-event.ts';
import {
  HEAD_BYTES,
  parseSaved,
  readersAt,
  readHead,
  type SavedFile,
  sameStart,
  savedOf,
  type Tracked,
} from './tracked.ts';

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

export function createFileSource(name: string, config: FileSourceConfig, ctx: SourceContext): Source {
  const prefix = `file/${name}/`;
  const host = hostname();
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
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let firstScan = true;
  const buf = Buffer.allocUnsafe(config.read_chunk_bytes);

  const count = (code: string, n = 1) =>
    ctx.metrics.errors.inc({ component: name, stage: 'receiving', code }, n);

  /** Hands records on with the file's new offset; false when the queue refused them. */
  const commit = async (
    t: Tracked,
    records: FileRecord[],
    offset: number,
    final = false,
  ): Promise<boolean> => {
    const received = ctx.now();
    const events: PendingEvent[] = [];
    let empty = 0;
    for (const r of records) {
      if (r.text.length === 0 || (r.lines === 1 && r.text.trim() === '')) empty++;
      else events.push(recordToEvent(r, config, { path: t.path, received, host }));
      if (r.truncatedBytes > 0) count('line_truncated');
    }
    if (empty > 0) ctx.metrics.dropped.inc({ source: name, reason: 'empty_line' }, empty);
    const state: Record<string, string | null> = { [prefix + t.key]: final ? null : savedOf(t, offset) };
    for (const k of deletes) state[k] = null;
    try {
      await ctx.emit(events, { state });
      for (const k of Object.keys(state)) deletes.delete(k);
      t.offset = offset;
      return true;
    } catch (error) {
      // Counted by the pipeline; read again from the last durable offset after a pause.
      ctx.logger.debug({ err: (error as Error).message, path: t.path }, 'file records not queued');
      const r = readersAt(config, t.offset);
      t.splitter = r.splitter;
      t.multiline = r.multiline;
      t.readPos = t.offset;
      t.retryAt = Date.now() + 1000;
      return false;
    }
  };

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

  /** Reads what is new in `t`, handing it on in batches; false when a write failed. */
  const readNew = async (t: Tracked): Promise<boolean> => {
    if (Date.now() < t.retryAt) return true;
    if (t.undecidedSince !== undefined) {
      await decide(t);
      if (t.undecidedSince !== undefined) {
        if (t.orphan && Date.now() - t.undecidedSince > config.rotate_wait_secs * 1000) {
          tracked.delete(t.key); // gone before it held anything
          await t.fd.close().catch(() => undefined);
        }
        return true;
      }
    }
    let size: number;
    try {
      size = (await t.fd.stat()).size;
    } catch {
      return true;
    }
    if (size < t.readPos) {
      // Truncated (copytruncate, or `> file`): what was after the offset in the old content is gone.
      await startOver(t, size);
    } else if (size !== t.size && t.head.length > 0) {
      const now = await readHead(t.fd, Math.min(size, t.head.length));
      // Rewritten in place since the last look (truncated and grown past the offset).
      if (!now.equals(t.head)) await startOver(t, size);
    }
    if (size !== t.size) t.activeAt = Date.now();
    t.size = size;
    if (t.head.length < HEAD_BYTES && size > t.head.length) t.head = await readHead(t.fd, size);
    let records: FileRecord[] = [];
    let rewritten = false;
    while (running && t.readPos < size) {
      const { bytesRead } = await t.fd.read(buf, 0, Math.min(buf.length, size - t.readPos), t.readPos);
      if (bytesRead === 0) break;
      // Truncated and written past this position while we read (a fast writer under
      // copytruncate): these bytes are the new content's, not the rest of the old one. The head
      // is looked at after the read, so the bytes kept were read before any truncation.
      if (t.head.length > 0 && !(await readHead(t.fd, t.head.length)).equals(t.head)) {
        rewritten = true;
        break;
      }
      t.readPos += bytesRead;
      for (const line of t.splitter.push(buf.subarray(0, bytesRead))) {
        if (t.multiline) records.push(...t.multiline.push(line));
        else records.push(lineRecord(line));
      }
      t.activeAt = Date.now();
      if (records.length >= config.max_batch_lines) {
        if (!(await commit(t, records, records.at(-1)!.end))) return false;
        records = [];
      }
    }
    const idle = Date.now() - t.activeAt;
    const m = config.multiline;
    if (
      t.multiline &&
      m &&
      t.multiline.pendingStart !== undefined &&
      (idle >= m.flush_timeout_ms || t.orphan)
    ) {
      // Only once the splitter holds no partial line after it: the record is whole.
      if (t.splitter.heldBytes === 0) records.push(t.multiline.flush()!);
    }
    if (records.length > 0 && !(await commit(t, records, records.at(-1)!.end))) return false;
    if (rewritten) {
      // The old content's copy, if any, is read on from what was just committed.
      await startOver(t, (await t.fd.stat()).size);
      return true;
    }
    const wait = config.rotate_wait_secs * 1000;
    if (
      t.orphan &&
      idle >= wait &&
      Date.now() - t.orphanSince >= Math.max(wait, 2 * config.poll_interval_ms)
    ) {
      // Renamed away or deleted and quiet: the last partial line and record go, then the file.
      const last: FileRecord[] = [];
      const partial = t.splitter.finish();
      if (partial) {
        if (t.multiline) last.push(...t.multiline.push(partial));
        else last.push(lineRecord(partial));
      }
      const rest = t.multiline?.flush();
      if (rest) last.push(rest);
      if (!(await commit(t, last, t.readPos, true))) return false;
      tracked.delete(t.key);
      remember(t.key, { head: t.head, offset: t.readPos });
      await t.fd.close().catch(() => undefined);
    }
    return true;
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
    const waited = Date.now() - t.undecidedSince!;
    const patience = Math.max(UNDECIDED_MS, 4 * config.poll_interval_ms);
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
          if (head.length < o.head.length && o.head.subarray(0, head.length).equals(head)) undecided = true;
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

  const cycle = async (): Promise<void> => {
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
    for (const [key, f] of found) if (!tracked.has(key)) await discover(key, f.file);
    for (const t of siblings) await findMissed(t);
    siblings.clear();
    if (firstScan) {
      for (const [key, s] of [...saved]) if (!tracked.has(key)) await findRenamed(key, s);
      firstScan = false;
    }
    for (const t of [...tracked.values()]) {
      if (!running) return;
      try {
        await readNew(t);
      } catch (error) {
        count('file_read');
        ctx.logger.warn({ err: (error as Error).message, path: t.path }, 'file read failed');
      }
    }
  };

  const run = async () => {
    while (running) {
      try {
        await cycle();
      } catch (error) {
        count('file_cycle');
        ctx.logger.warn({ err: (error as Error).message }, 'file source cycle failed');
      }
      if (!running) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, config.poll_interval_ms);
      });
    }
  };

  return {
    name,
    type: 'file',
    async start() {
      if (!ctx.readState) throw new Error(`source ${name}: the file source needs the queue's state`);
      saved = new Map();
      for (const [k, v] of await ctx.readState(prefix)) {
        const s = parseSaved(v);
        if (s) saved.set(k.slice(prefix.length), s);
      }
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
      for (const t of tracked.values()) await t.fd.close().catch(() => undefined);
      tracked.clear();
    },
    addresses: () => [],
  };
}
