/**
 * One file the file source follows, and how files are told apart. A file is its inode
 * (`dev:ino`) plus its head (its first bytes, up to HEAD_BYTES): a rename keeps both, so a
 * renamed file is followed on; a truncation or rewrite changes the head, so the file is read
 * again from 0; and a new inode whose head is that of a file already read is a copy of it
 * (logrotate's copytruncate), read on from the original's offset instead of twice. The state
 * kept with the queue per file is its path, committed offset and head fingerprint.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { FileSourceConfig } from './config.ts';
import { createLineSplitter, type LineSplitter } from './lines.ts';
import { createMultiline, type Multiline } from './multiline.ts';
import { compileLinearRegex } from '../../../protocols/sigma/regex.ts';

/** Bytes of a file's start that identify its content (with its inode). */
export const HEAD_BYTES = 1024;

export interface SavedFile {
  path: string;
  /** End of the last record made durable: where reading resumes. */
  offset: number;
  /** SHA-256 (hex) of the first `fpLen` bytes when `offset` was written. */
  fp: string;
  fpLen: number;
}

export interface Tracked {
  key: string;
  path: string;
  fd: FileHandle;
  /** Committed: the end of the last record made durable. */
  offset: number;
  /** The next byte to read. */
  readPos: number;
  head: Buffer;
  splitter: LineSplitter;
  multiline: Multiline | undefined;
  /** Size at the last look, and when it last grew or was read from. */
  size: number;
  activeAt: number;
  /** Not at any matched path any more (renamed away or deleted): read until idle, then let go. */
  orphan: boolean;
  /** Since when it has been an orphan without a break (a listing racing a rename misses a file once). */
  orphanSince: number;
  /** When it was last seen at a followed path. */
  seenAt: number;
  /** After a failed write: no reading before this time. */
  retryAt: number;
  /** Not decided yet where to start (empty, or maybe a copy still being written): since when. */
  undecidedSince: number | undefined;
  /** Found at the first start with `start_at: end`: starts at its end. */
  fromEnd: boolean;
}

export function fingerprint(head: Buffer): string {
  return createHash('sha256').update(head).digest('hex');
}

/** Whether `head` (a file's first bytes now) starts with the content `saved` was taken from. */
export function sameStart(head: Buffer, saved: Pick<SavedFile, 'fp' | 'fpLen'>): boolean {
  return head.length >= saved.fpLen && fingerprint(head.subarray(0, saved.fpLen)) === saved.fp;
}

export function parseSaved(text: string): SavedFile | undefined {
  try {
    const v = JSON.parse(text) as Partial<SavedFile>;
    if (
      typeof v.path === 'string' &&
      Number.isSafeInteger(v.offset) &&
      v.offset! >= 0 &&
      typeof v.fp === 'string' &&
      Number.isSafeInteger(v.fpLen)
    )
      return v as SavedFile;
  } catch {
    // A state the source cannot read is as if there were none: the file is read from its start.
  }
  return undefined;
}

export function savedOf(t: Tracked, offset: number): string {
  return JSON.stringify({
    path: t.path,
    offset,
    fp: fingerprint(t.head),
    fpLen: t.head.length,
  } satisfies SavedFile);
}

/** The splitter and assembler of a file, from `offset` (a record start). */
export function readersAt(config: FileSourceConfig, offset: number) {
  const m = config.multiline;
  let multiline: Multiline | undefined;
  if (m) {
    const compiled = compileLinearRegex(m.start_pattern, '');
    if (!compiled.ok) throw new Error(`multiline.start_pattern: ${compiled.message}`);
    multiline = createMultiline({
      startPattern: compiled.value,
      maxLines: m.max_lines,
      maxBytes: m.max_bytes,
    });
  }
  const splitter = createLineSplitter({
    encoding: config.encoding,
    maxLineBytes: config.max_line_bytes,
    startOffset: offset,
  });
  return { splitter, multiline };
}

/** The first bytes of an open file (up to HEAD_BYTES and `size`). */
export async function readHead(fd: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.min(HEAD_BYTES, size));
  let n = 0;
  while (n < buf.length) {
    const { bytesRead } = await fd.read(buf, n, buf.length - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return buf.subarray(0, n);
}
