/**
 * The file source: follows the files its globs match and hands their lines (or multi-line
 * records) to the pipeline, with the offset reached written in the same queue batch as the
 * events (gateway/queue/SPEC.md §10). So after a stop, a crash or a SIGKILL it resumes exactly
 * after the last record made durable: no line twice, none lost. Rotation: a file renamed away is
 * read to its end (until idle `rotate_wait_secs`), the new file from its start; a truncated file
 * (copytruncate) from 0, and its copy, when the globs match it, from the original's offset
 * (tracked.ts tells files apart). One loop polls every `poll_interval_ms`: a look at the globs
 * decides which files are followed and from where (tracking.ts: discovery, copies, rotations),
 * then this file reads what is new in each, hands it on and waits until it is durable before
 * reading on.
 */
import { hostname } from 'node:os';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { Source, SourceContext } from '../../pipeline/types.ts';
import type { FileSourceConfig } from './config.ts';
import { type FileRecord, lineRecord } from './multiline.ts';
import { recordToEvent } from './to-event.ts';
import {
  HEAD_BYTES,
  parseSaved,
  readersAt,
  readHead,
  type SavedFile,
  savedOf,
  type Tracked,
} from './tracked.ts';
import { createFileTracking } from './tracking.ts';

export function createFileSource(name: string, config: FileSourceConfig, ctx: SourceContext): Source {
  const prefix = `file/${name}/`;
  const host = hostname();
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const buf = Buffer.allocUnsafe(config.read_chunk_bytes);

  const count = (code: string, n = 1) =>
    ctx.metrics.errors.inc({ component: name, stage: 'receiving', code }, n);
  const files = createFileTracking({ config, prefix, count });
  const { tracked, deletes, decide, startOver, remember } = files;

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

  /** Reads what is new in `t`, handing it on in batches; false when a write failed. */
  const readNew = async (t: Tracked): Promise<boolean> => {
    if (Date.now() < t.retryAt) return true;
    if (t.undecidedSince !== undefined) {
      await decide(t);
      if (t.undecidedSince !== undefined) {
        // Renamed away before it held anything: let go. Only when it is still empty: a file
        // waiting to be decided (a copy waiting for its original, up to 1.5 s or rotate_wait_secs)
        // holds lines that would be lost with it.
        if (
          t.orphan &&
          Date.now() - t.undecidedSince > config.rotate_wait_secs * 1000 &&
          (await t.fd.stat().then(
            (st) => st.size === 0,
            () => true,
          ))
        ) {
          tracked.delete(t.key);
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
    } else if (size !== t.size || (t.head.length < HEAD_BYTES && size > t.head.length)) {
      // One read of the head answers both questions, so nothing can change between them: is this
      // still the content read so far (not truncated and grown past the offset since the last
      // look), and, for a head shorter than HEAD_BYTES, what its longer head is. Two reads left a
      // window: a rewrite between them gave the new content's head to the old content's offset.
      const now = await readHead(t.fd, size);
      if (!now.subarray(0, t.head.length).equals(t.head)) await startOver(t, size);
      else if (now.length > t.head.length) t.head = now;
    }
    if (size !== t.size) t.activeAt = Date.now();
    t.size = size;
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

  const cycle = async (): Promise<void> => {
    await files.look();
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
      const saved = new Map<string, SavedFile>();
      for (const [k, v] of await ctx.readState(prefix)) {
        const s = parseSaved(v);
        if (s) saved.set(k.slice(prefix.length), s);
      }
      files.load(saved);
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
