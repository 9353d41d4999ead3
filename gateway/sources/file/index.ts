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

export function createFileSource(name: string, config: FileSourceConfig, ctx: SourceContext): Source {
  const prefix = `file/${name}/`;
  const host = hostname();
  const tracked = new Map<string, Tracked>();
  /** States read at start and not yet matched to a file. */
  let saved = new Map<string, SavedFile>();
  const undecidedSince = new Map<string, number>();
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

  /** Reads what is new in `t`, handing it on in batches; false when a write failed. */
  const readNew = async (t: Tracked): Promise<boolean> => {
    if (Date.now() < t.retryAt) return true;
    let size: number;
    try {
      size = (await t.fd.stat()).size;
    } catch {
      return true;
    }
    if (size < t.readPos) {
      // Truncated (copytruncate, or `> file`): what was after the offset in the old content is gone.
      count('file_truncated');
      t.size = size;
      await restartAt(t, 0);
    } else if (size !== t.size && t.head.length > 0) {
      const now = await readHead(t.fd, Math.min(size, t.head.length));
      if (!now.equals(t.head)) {
        // Rewritten in place since the last look (truncated and grown past the offset).
        count('file_truncated');
        t.size = size;
        await restartAt(t, 0);
      }
    }
    if (size !== t.size) t.activeAt = Date.now();
    t.size = size;
    if (t.head.length < HEAD_BYTES && size > t.head.length) t.head = await readHead(t.fd, size);
    let records: FileRecord[] = [];
    while (running && t.readPos < size) {
      const { bytesRead } = await t.fd.read(buf, 0, Math.min(buf.length, size - t.readPos), t.readPos);
      if (bytesRead === 0) break;
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
    if (t.orphan && idle >= config.rotate_wait_secs * 1000) {
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
      await t.fd.close().catch(() => undefined);
    }
    return true;
  };

  /** Starts following a file not followed yet (or leaves it for the next look). */
  const discover = async (key: string, file: string, size: number): Promise<void> => {
    if (tracked.size >= config.max_open_files) return count('too_many_files');
    let fd;
    try {
      fd = await open(file, 'r');
    } catch {
      return count('file_open');
    }
    const st = await fd.stat();
    if (`${st.dev}:${st.ino}` !== key) {
      await fd.close();
      return; // replaced between the look and the open: next time
    }
    size = st.size;
    const head = await readHead(fd, size);
    let offset: number | undefined;
    const own = saved.get(key);
    if (own) {
      saved.delete(key);
      if (sameStart(head, own) && own.offset <= size) offset = own.offset;
    }
    if (offset === undefined) {
      // A copy of a file already read (copytruncate's rotated file): on from that file's offset.
      let undecided = size === 0;
      for (const o of others()) {
        if (o.head) {
          if (o.head.length === 0) continue;
          if (head.length >= o.head.length && head.subarray(0, o.head.length).equals(o.head)) {
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
      if (offset === undefined && undecided) {
        const since = undecidedSince.get(key) ?? Date.now();
        undecidedSince.set(key, since);
        if (size === 0 || Date.now() - since < Math.max(UNDECIDED_MS, 4 * config.poll_interval_ms)) {
          await fd.close();
          return;
        }
      }
      undecidedSince.delete(key);
      offset ??= firstScan && config.start_at === 'end' ? size : 0;
    }
    const r = readersAt(config, offset);
    tracked.set(key, {
      key,
      path: file,
      fd,
      offset,
      readPos: offset,
      head,
      splitter: r.splitter,
      multiline: r.multiline,
      size,
      activeAt: Date.now(),
      orphan: false,
      retryAt: 0,
    });
  };

  /** What a new file may be a copy of: the files followed (their heads) and the states not matched. */
  const others = (): Array<{ head?: Buffer; saved?: SavedFile; offset: number }> => [
    ...[...tracked.values()].map((t) => ({ head: t.head, offset: t.offset })),
    ...[...saved.values()].map((s) => ({ saved: s, offset: s.offset })),
  ];

  /** A file read before the stop and renamed away since: found by its inode beside its old path. */
  const findRenamed = async (key: string, s: SavedFile): Promise<void> => {
    const dir = path.dirname(s.path);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // The directory is gone too.
    }
    for (const n of names) {
      const p = path.join(dir, n);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (`${st.dev}:${st.ino}` !== key || !st.isFile()) continue;
      await discover(key, p, st.size);
      const t = tracked.get(key);
      if (t) t.orphan = true;
      return;
    }
    saved.delete(key);
    deletes.add(prefix + key);
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
    for (const t of tracked.values()) {
      const f = found.get(t.key);
      t.orphan = !f;
      if (f) t.path = f.file;
    }
    for (const [key, f] of found) if (!tracked.has(key)) await discover(key, f.file, f.size);
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
