/**
 * Multi-line records by a start pattern (the file source's `multiline`): a line that matches the
 * pattern starts a record, the lines after it that do not match join it (a Java stack trace, a
 * wrapped message). A record is handed on when the next one starts, when it reaches `maxLines` or
 * `maxBytes` (the line that would pass the cap starts a new record, tagged as a split), or when
 * the source calls `flush` after its timeout. Lines before the first start line form records of
 * their own. A record keeps the file offsets of its first line's start and its last line's end,
 * so that the offset committed is always the end of a record handed on. Pure: no I/O, no timers.
 */
import type { SplitLine } from './lines.ts';

export interface FileRecord {
  text: string;
  start: number;
  end: number;
  lines: number;
  /** Bytes cut from its lines over the line cap. */
  truncatedBytes: number;
  /** It began with a continuation line: the record before it reached max_lines or max_bytes. */
  split: boolean;
}

export interface MultilineOptions {
  startPattern: { test(text: string): boolean };
  maxLines: number;
  maxBytes: number;
}

export function lineRecord(line: SplitLine): FileRecord {
  return {
    text: line.text,
    start: line.start,
    end: line.end,
    lines: 1,
    truncatedBytes: line.truncatedBytes,
    split: false,
  };
}

export function createMultiline(options: MultilineOptions) {
  let current: (FileRecord & { parts: string[]; bytes: number }) | undefined;

  const take = (): FileRecord | undefined => {
    if (!current) return undefined;
    const { parts, bytes: _bytes, ...record } = current;
    current = undefined;
    return { ...record, text: parts.join('\n') };
  };

  const begin = (line: SplitLine, split: boolean) => {
    current = {
      ...lineRecord(line),
      split,
      parts: [line.text],
      bytes: line.end - line.start,
    };
  };

  return {
    /** Adds a line; returns the records it completed (zero or one). */
    push(line: SplitLine): FileRecord[] {
      const bytes = line.end - line.start;
      if (options.startPattern.test(line.text) || !current) {
        const done = take();
        begin(line, false);
        return done ? [done] : [];
      }
      if (current.lines >= options.maxLines || current.bytes + bytes > options.maxBytes) {
        const done = take()!;
        begin(line, true);
        return [done];
      }
      current.parts.push(line.text);
      current.lines += 1;
      current.bytes += bytes;
      current.end = line.end;
      current.truncatedBytes += line.truncatedBytes;
      return [];
    },
    /** Hands on the record being gathered (timeout, or the file will not grow). */
    flush(): FileRecord | undefined {
      return take();
    },
    /** Start offset of the record being gathered, if any (not yet safe to commit past). */
    get pendingStart(): number | undefined {
      return current?.start;
    },
  };
}

export type Multiline = ReturnType<typeof createMultiline>;
