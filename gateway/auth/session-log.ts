/**
 * The gateway's sessions on disk: an append-only log (`<data_dir>/auth/sessions.log`, NDJSON, mode
 * 0600) instead of the whole set rewritten at every login and every touch (security review, issue
 * 15 item 11). Each change appends one line and is fsynced before it resolves, so a crash loses
 * nothing already answered; the log is compacted (the live sessions written to a temp file,
 * fsynced, renamed over it) once it holds more than `compactAfterLines` lines and twice as many
 * lines as live sessions. Lines:
 *
 *   {"p": SessionRecord}            a new session (put)
 *   {"t": "<id_sha256>", "at": ISO} last use moved
 *   {"d": "<id_sha256>"}            session ended
 *
 * A torn last line (a crash mid-write) is skipped on reading, and the log is then compacted
 * before anything is appended, so a later line never joins the torn one. After a failed write
 * (full disk) the next write compacts too: a lost delete must never bring a session back.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { SessionRecord } from '../../server-shared/web-auth/types.ts';

export interface SessionLogOptions {
  /** `<dir>/sessions.log`. */
  file: string;
  /** The sessions file of earlier versions (one JSON array), read once and then removed. */
  legacyFile?: string;
  /** Compact past this many lines (default 1000). */
  compactAfterLines?: number;
}

export interface SessionLog {
  /** The live sessions; change them only through put/touch/remove. */
  readonly sessions: ReadonlyMap<string, SessionRecord>;
  put(session: SessionRecord): Promise<void>;
  touch(id: string, at: Date): Promise<void>;
  remove(ids: string[]): Promise<void>;
  /** Lines in the log now (tests: compaction bounds it). */
  lines(): number;
  /** Resolves once every change so far is on disk (or failed). */
  flush(): Promise<void>;
}

type Line = { p: SessionRecord } | { t: string; at: string } | { d: string };

const reviveSession = (s: SessionRecord): SessionRecord => ({
  ...s,
  created_at: new Date(s.created_at),
  last_seen_at: new Date(s.last_seen_at),
});

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file} is unreadable: ${(error as Error).message}`, { cause: error });
  }
}

async function writeDurably(file: string, text: string, flags: 'a' | 'w'): Promise<void> {
  const handle = await open(file, flags, 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function openSessionLog(options: SessionLogOptions): Promise<SessionLog> {
  const compactAfter = options.compactAfterLines ?? 1000;
  const sessions = new Map<string, SessionRecord>();
  let needsCompaction = false;

  const legacy = options.legacyFile ? await readText(options.legacyFile) : undefined;
  if (legacy !== undefined) {
    try {
      for (const s of JSON.parse(legacy) as SessionRecord[]) sessions.set(s.id_sha256, reviveSession(s));
    } catch (error) {
      throw new Error(`${options.legacyFile} is unreadable: ${(error as Error).message}`, { cause: error });
    }
    needsCompaction = true;
  }
  let lines = 0;
  const text = (await readText(options.file)) ?? '';
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      // Only the last line can be torn (a crash mid-append): compact before the next append.
      needsCompaction = true;
      continue;
    }
    lines++;
    if ('p' in line) sessions.set(line.p.id_sha256, reviveSession(line.p));
    else if ('t' in line) {
      const s = sessions.get(line.t);
      if (s) s.last_seen_at = new Date(line.at);
    } else if ('d' in line) sessions.delete(line.d);
  }
  if (text && !text.endsWith('\n')) needsCompaction = true;

  let pending: string[] = [];
  let chain: Promise<void> = Promise.resolve();

  const compact = async () => {
    const snapshot = [...sessions.values()].map((s) => `${JSON.stringify({ p: s })}\n`).join('');
    const tmp = `${options.file}.tmp`;
    await writeDurably(tmp, snapshot, 'w');
    await rename(tmp, options.file);
    lines = sessions.size;
    if (options.legacyFile) await rm(options.legacyFile, { force: true });
  };

  const write = async () => {
    if (pending.length === 0) return; // an earlier job wrote these lines already
    const text = pending.join('');
    pending = [];
    try {
      if (needsCompaction || (lines > compactAfter && lines > 2 * sessions.size)) {
        // The map already holds every change, those in `text` too.
        await compact();
        needsCompaction = false;
      } else {
        await writeDurably(options.file, text, 'a');
      }
    } catch (error) {
      needsCompaction = true;
      throw error;
    }
  };

  const append = (entries: Line[]): Promise<void> => {
    if (entries.length === 0) return Promise.resolve();
    for (const e of entries) pending.push(`${JSON.stringify(e)}\n`);
    lines += entries.length;
    chain = chain.then(write, write);
    return chain;
  };

  if (needsCompaction) {
    await compact();
    needsCompaction = false;
  }

  return {
    sessions,
    put(session) {
      sessions.set(session.id_sha256, { ...session });
      return append([{ p: session }]);
    },
    touch(id, at) {
      const s = sessions.get(id);
      if (!s) return Promise.resolve();
      s.last_seen_at = at;
      return append([{ t: id, at: at.toISOString() }]);
    },
    remove(ids) {
      const gone = ids.filter((id) => sessions.delete(id));
      return append(gone.map((id) => ({ d: id })));
    },
    lines: () => lines,
    flush: () => chain.catch(() => undefined),
  };
}
