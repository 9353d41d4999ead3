/**
 * Linear-time regular expressions for Sigma `re` values and `?` wildcards. A backtracking engine
 * (JavaScript's RegExp) takes exponential time on patterns like `(a+)+$` and polynomial time on
 * `a.*b` or `*a*b*?`: one analyst's rule and one crafted log line could freeze a gateway or
 * central. Patterns run on RE2JS (a pure-JS port of RE2, time linear in the input), except those
 * the check below proves linear under backtracking too, which keep the much faster native RegExp.
 * Patterns RE2 cannot run (backreferences, lookaround) are refused at rule load. Every value is
 * matched on at most its first MAX_REGEX_INPUT_CHARS characters.
 */
import { RE2JS } from 're2js';

/**
 * Longest prefix of a field a regex (or `?` wildcard) is matched against: a longer value is
 * truncated to it, so a match inside the first 64 KiB still counts and anything after is not seen.
 */
export const MAX_REGEX_INPUT_CHARS = 64 * 1024;

/**
 * Escapes both engines read alike: ASCII classes and word boundaries, a few control characters,
 * escaped punctuation. Others (`\s` is Unicode-wide in RegExp, `\Q…\E` and `\z` are RE2's,
 * `\1` a backreference, `\x`, `\p`...) leave the pattern to RE2.
 */
const SAME_ESCAPE = /^[dDwWbBtnrf]$|^[^\p{L}\p{N}\s]$/u;

/** Upper bound on backtracking branches per start position for a pattern to keep native RegExp. */
const MAX_NATIVE_BRANCHES = 64;

export interface LinearRegex {
  test(value: string): boolean;
  /** Which engine runs it: native RegExp only for patterns proven linear (nativeIsLinear). */
  readonly engine: 'native' | 're2';
}

export type RegexResult = { ok: true; value: LinearRegex } | { ok: false; message: string };

const RE2_FLAGS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
};

const cap = (s: string) => (s.length > MAX_REGEX_INPUT_CHARS ? s.slice(0, MAX_REGEX_INPUT_CHARS) : s);

/**
 * Compiles `source` with flags from `i`, `m`, `s`. RE2 syntax is the reference: a pattern it
 * refuses is refused here, whatever RegExp would say, and native RegExp only runs patterns both
 * read alike (nativeIsLinear), so what a rule accepts never depends on the engine. (Left: `.`
 * without `s` also stops at CR, U+2028 and U+2029 in RegExp, only at LF in RE2.) Inline flags
 * such as `(?i)` are RE2 syntax.
 */
export function compileLinearRegex(source: string, flags: string): RegexResult {
  let bits = 0;
  for (const f of flags) bits |= RE2_FLAGS[f] ?? 0;
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(source, bits);
  } catch (error) {
    const why = (error as Error).message;
    const hint = /\(\?[=!<]|\\[1-9]/.test(source)
      ? ' (backreferences and lookaround cannot run in linear time and are not supported)'
      : '';
    return { ok: false, message: `${why}${hint}` };
  }
  const native = nativeIsLinear(source, flags) ? nativeRegExp(source, flags) : undefined;
  if (native) return { ok: true, value: { engine: 'native', test: (v) => native.test(cap(v)) } };
  return { ok: true, value: { engine: 're2', test: (v) => re2.test(cap(v)) } };
}

function nativeRegExp(source: string, flags: string): RegExp | undefined {
  try {
    return new RegExp(source, [...new Set(flags)].join(''));
  } catch {
    return undefined; // RE2 syntax RegExp lacks: RE2 runs it
  }
}

/**
 * Whether a backtracking engine provably runs `source` in time linear in the input. Conservative:
 * no quantified group (so no nested quantifiers and no alternation under a quantifier), at most
 * `MAX_NATIVE_BRANCHES` ways through the bounded choices (`|`, `?`, `{n,m}`) per start position,
 * and at most one unbounded quantifier (`*`, `+`, `{n,}`), and then only when the pattern is
 * anchored at the start of the input: unanchored, `a.*b` tries every start and is quadratic.
 * Anything it does not understand (inline flags, escapes it does not know) answers false.
 */
export function nativeIsLinear(source: string, flags: string): boolean {
  const anchored = source.startsWith('^') && !flags.includes('m');
  let unbounded = 0;
  let branches = 1;
  let topLevelAlternation = false;
  // Alternatives per open group, multiplied into `branches` when the group closes.
  const groups: number[] = [];
  let prevAtom: 'atom' | 'group' | 'none' = 'none';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      if (!SAME_ESCAPE.test(source[i + 1] ?? '')) return false;
      i++;
      prevAtom = 'atom';
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      // `[]`, `[^]` and POSIX `[[:alpha:]]` mean different things to the two engines.
      if (source[j] === ']' || source[j] === '[') return false;
      for (; j < source.length && source[j] !== ']'; j++) {
        if (source[j] === '[') return false;
        if (source[j] === '\\' && !SAME_ESCAPE.test(source[++j] ?? '')) return false;
      }
      if (j >= source.length) return false;
      i = j;
      prevAtom = 'atom';
      continue;
    }
    if (c === '(') {
      if (source[i + 1] === '?') {
        if (source[i + 2] !== ':') return false; // lookaround, named groups, inline flags
        i += 2;
      }
      groups.push(1);
      prevAtom = 'none';
      continue;
    }
    if (c === ')') {
      const alternatives = groups.pop();
      if (alternatives === undefined) return false;
      branches *= alternatives;
      prevAtom = 'group';
      continue;
    }
    if (c === '|') {
      if (groups.length === 0) topLevelAlternation = true;
      else groups[groups.length - 1]! += 1;
      if (groups.length === 0) branches *= 2;
      prevAtom = 'none';
      continue;
    }
    const q = quantifierAt(source, i);
    if (q) {
      if (prevAtom === 'group') return false;
      if (prevAtom === 'none') return false;
      if (q.max === Infinity) unbounded++;
      else branches *= q.max - q.min + 1;
      i = q.end - 1;
      if (source[i + 1] === '?') i++; // lazy: same bound
      prevAtom = 'none'; // a quantified quantifier is a syntax error anyway
      continue;
    }
    prevAtom = c === '^' || c === '$' ? 'none' : 'atom';
  }
  if (groups.length > 0 || branches > MAX_NATIVE_BRANCHES) return false;
  if (unbounded === 0) return true;
  return unbounded === 1 && anchored && !topLevelAlternation;
}

function quantifierAt(s: string, i: number): { min: number; max: number; end: number } | undefined {
  const c = s[i];
  if (c === '*') return { min: 0, max: Infinity, end: i + 1 };
  if (c === '+') return { min: 1, max: Infinity, end: i + 1 };
  if (c === '?') return { min: 0, max: 1, end: i + 1 };
  if (c !== '{') return undefined;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(i));
  if (!m) return undefined; // a literal `{`
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
  return { min, max, end: i + m[0].length };
}
