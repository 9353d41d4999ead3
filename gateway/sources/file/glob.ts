/**
 * Absolute globs for the file source: `*` and `?` within one path segment, `[abc]`/`[!a-z]`
 * classes, and `**` for any number of directories. A pattern is expanded by walking only the
 * directories it can match, from its longest literal prefix; symlinks to directories are not
 * followed under `**` (no cycles).
 */
import { readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';

const SPECIAL = /[*?[]/;

/** One segment's pattern as an anchored RegExp (no backtracking blow-up: no nested quantifiers). */
export function segmentRegExp(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

/** Whether `file` (a base name, or a path when the pattern has a /) matches one of `patterns`. */
export function excluded(
  file: string,
  patterns: readonly RegExp[],
  pathPatterns: readonly RegExp[],
): boolean {
  const base = path.basename(file);
  return patterns.some((p) => p.test(base)) || pathPatterns.some((p) => p.test(file));
}

/** The regular files that `glob` matches now (sorted); unreadable directories are skipped. */
export function expandGlob(glob: string): string[] {
  const parts = glob.split('/').filter((p) => p !== '');
  const out: string[] = [];
  const walk = (dir: string, i: number): void => {
    if (i === parts.length) return;
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === '**') {
      // Zero directories, then one more level at a time.
      walk(dir, i + 1);
      for (const e of list(dir)) if (e.isDirectory()) walk(path.join(dir, e.name), i);
      return;
    }
    if (!SPECIAL.test(part)) {
      if (!last) return walk(path.join(dir, part), i + 1);
      const found = list(dir).find((e) => e.name === part);
      if (found && (found.isFile() || found.isSymbolicLink())) out.push(path.join(dir, part));
      return;
    }
    const re = segmentRegExp(part);
    for (const e of list(dir)) {
      if (!re.test(e.name)) continue;
      if (last) {
        if (e.isFile() || e.isSymbolicLink()) out.push(path.join(dir, e.name));
      } else if (e.isDirectory() || e.isSymbolicLink()) walk(path.join(dir, e.name), i + 1);
    }
  };
  walk('/', 0);
  return [...new Set(out)].sort();
}

function list(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
