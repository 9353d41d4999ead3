/**
 * Sigma strings: the wildcards `*` and `?`, backslash escaping, `expand` placeholders and the
 * `windash` character class, turned into a matcher compiled once per rule value. Literal patterns
 * (the common case) become `===`, `includes`, `startsWith` or `endsWith` on a lower-cased copy of
 * the field (computed once per event, see field-access.ts); only patterns with inner wildcards or
 * dash classes become a regex (regex.ts: linear time).
 */
import { compileLinearRegex } from './regex.ts';

/** One piece of a parsed Sigma string. */
export type PatternToken =
  | { t: 'lit'; s: string }
  | { t: 'star' } // `*`: any run of characters, possibly empty
  | { t: 'one' } // `?`: exactly one character
  | { t: 'dash' }; // windash: one of - / – — ―

export type Position = 'exact' | 'contains' | 'startswith' | 'endswith';

/** Modifiers appendix, `windash` (v2.1): the characters that are interchangeable. */
export const WINDASH_CHARS = ['-', '/', '\u2013', '\u2014', '\u2015'];

/**
 * Rules specification "Escaping": `\` escapes `*`, `?` and itself; a backslash before any other
 * character is a plain backslash. So `\\*` is a backslash then a wildcard, `\\\*` a backslash then a
 * star, and three or four backslashes are two plain ones.
 */
export function parseSigmaString(value: string): PatternToken[] {
  const out: PatternToken[] = [];
  let lit = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      const next = value[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        lit += next;
        i++;
      } else lit += '\\';
    } else if (c === '*' || c === '?') {
      if (lit) out.push({ t: 'lit', s: lit });
      lit = '';
      out.push(c === '*' ? { t: 'star' } : { t: 'one' });
    } else lit += c;
  }
  if (lit) out.push({ t: 'lit', s: lit });
  return out;
}

/** True when the tokens are one plain string (no wildcard, no class). */
export function literalOf(tokens: PatternToken[]): string | undefined {
  if (tokens.length === 0) return '';
  if (tokens.length === 1 && tokens[0]!.t === 'lit') return tokens[0]!.s;
  return undefined;
}

/** Splits every windash character out of the literals into `dash` class tokens. */
export function applyWindash(tokens: PatternToken[]): PatternToken[] {
  const out: PatternToken[] = [];
  for (const tok of tokens) {
    if (tok.t !== 'lit') {
      out.push(tok);
      continue;
    }
    let lit = '';
    for (const ch of tok.s) {
      if (WINDASH_CHARS.includes(ch)) {
        if (lit) out.push({ t: 'lit', s: lit });
        lit = '';
        out.push({ t: 'dash' });
      } else lit += ch;
    }
    if (lit) out.push({ t: 'lit', s: lit });
  }
  return out;
}

/**
 * Every spelling of `value` with each windash character replaced by each of WINDASH_CHARS, for
 * values that are encoded (base64, UTF-16) and so cannot use the dash class; undefined when there
 * would be more than `limit`. Only dashes that start a flag (after a non-word character or at the
 * start, before a word character: pySigma's `\B[-/]\b`) vary, so `C:/Program-Files` stays one.
 */
export function windashVariants(value: string, limit: number): string[] | undefined {
  let out = [''];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    const prev = i > 0 ? value[i - 1]! : '';
    const next = value[i + 1] ?? '';
    const flag = WINDASH_CHARS.includes(ch) && !/\w/.test(prev) && /\w/.test(next);
    if (!flag) {
      out = out.map((o) => o + ch);
      continue;
    }
    if (out.length * WINDASH_CHARS.length > limit) return undefined;
    out = out.flatMap((o) => WINDASH_CHARS.map((d) => o + d));
  }
  return out.length > limit ? undefined : out;
}

/**
 * Rules specification "Placeholders": with `expand`, `%name%` is replaced by each of the values the
 * configuration gives for `name` (OR-linked; several placeholders give their cartesian product);
 * `\%` is a plain percent sign. Returns the expanded raw strings (still Sigma strings, with their
 * own wildcards), or the name of the first unknown placeholder. `limit` bounds the product.
 */
export function expandPlaceholders(
  value: string,
  placeholders: Readonly<Record<string, readonly string[]>>,
  limit: number,
): { values: string[] } | { unknown: string } | { tooMany: number } {
  let acc: string[] = [''];
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c === '\\' && value[i + 1] === '%') {
      acc = acc.map((a) => a + '%');
      i += 2;
      continue;
    }
    if (c === '%') {
      const end = value.indexOf('%', i + 1);
      const name = end > i + 1 ? value.slice(i + 1, end) : '';
      if (end > i + 1 && /^[A-Za-z0-9_.-]+$/.test(name)) {
        const list = Object.hasOwn(placeholders, name) ? placeholders[name] : undefined;
        if (!list) return { unknown: name };
        const next: string[] = [];
        for (const a of acc) for (const v of list) next.push(a + v);
        if (next.length > limit) return { tooMany: next.length };
        acc = next;
        i = end + 1;
        continue;
      }
    }
    acc = acc.map((a) => a + c);
    i++;
  }
  return { values: acc };
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;
const escapeRegex = (s: string) => s.replace(REGEX_SPECIAL, '\\$&');

/** A compiled string test. `lower` is the field lower-cased (only read when `cased` is false). */
export interface StringMatcher {
  test(value: string, lower: string): boolean;
  /** How it was compiled: literal string operations, a RegExp, or "anything". */
  readonly how: 'eq' | 'contains' | 'startswith' | 'endswith' | 'segments' | 'regex' | 'any';
  /** The literal looked for (lower-cased unless `cased`), for the literal kinds. */
  readonly needle?: string;
  readonly cased: boolean;
}

/**
 * Compiles tokens at a position into a matcher. Leading and trailing `*` are folded into the
 * position, so `*foo*` is `contains foo`, and a pure literal never needs a regex. Matching is
 * case-insensitive unless `cased` (rules specification "General": values are case-insensitive).
 */
export function compilePattern(tokens: PatternToken[], position: Position, cased: boolean): StringMatcher {
  let start = position === 'exact' || position === 'startswith';
  let end = position === 'exact' || position === 'endswith';
  let toks = tokens;
  let a = 0;
  let b = toks.length;
  while (a < b && toks[a]!.t === 'star') {
    start = false;
    a++;
  }
  while (b > a && toks[b - 1]!.t === 'star') {
    end = false;
    b--;
  }
  toks = toks.slice(a, b);
  const lit = literalOf(toks);
  if (lit !== undefined) {
    const needle = cased ? lit : lit.toLowerCase();
    if (needle === '' && !(start && end)) return { how: 'any', cased, test: () => true };
    const how = start && end ? 'eq' : start ? 'startswith' : end ? 'endswith' : 'contains';
    const op = literalOp(how, needle);
    return { how, needle, cased, test: cased ? (v) => op(v) : (_v, l) => op(l) };
  }
  if (toks.every((t) => t.t === 'lit' || t.t === 'star')) {
    const parts = toks.filter((t) => t.t === 'lit').map((t) => (cased ? t.s : t.s.toLowerCase()));
    const seq = segmentsOp(parts, start, end);
    return { how: 'segments', cased, test: cased ? (v) => seq(v) : (_v, l) => seq(l) };
  }
  let src = start ? '^' : '';
  for (const tok of toks) {
    if (tok.t === 'lit') src += escapeRegex(tok.s);
    else if (tok.t === 'star') src += '.*';
    else if (tok.t === 'one') src += '.';
    else src += '[-/\u2013\u2014\u2015]';
  }
  if (end) src += '$';
  // `s`: `?` and `*` also match a line break; `u`: `?` is one code point, not half a surrogate
  // pair. Several `*` around a `?` are polynomial under backtracking: regex.ts picks the engine.
  const r = compileLinearRegex(src, cased ? 'su' : 'isu');
  // Escaped literals, `.`, `.*` and one class always compile: a failure is a bug, not bad input.
  if (!r.ok) throw new Error(`wildcard pattern ${src}: ${r.message}`);
  const re = r.value;
  return { how: 'regex', cased, test: (v) => re.test(v) };
}

/**
 * `L1*L2*…*Ln` without `?`: placing each literal at its leftmost possible position after the
 * previous one is a match whenever any placement is, so a few `indexOf` calls decide it without a
 * backtracking regex. `start`/`end` anchor the first and last literal.
 */
function segmentsOp(parts: readonly string[], start: boolean, end: boolean): (s: string) => boolean {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(start ? 1 : 0, end ? parts.length - 1 : parts.length);
  return (s) => {
    let pos = 0;
    if (start) {
      if (!s.startsWith(first)) return false;
      pos = first.length;
    }
    for (let i = 0; i < middle.length; i++) {
      const at = s.indexOf(middle[i]!, pos);
      if (at < 0) return false;
      pos = at + middle[i]!.length;
    }
    return !end || (s.length - last.length >= pos && s.endsWith(last));
  };
}

/** The string operation of a literal matcher kind. */
export function literalOp(
  how: 'eq' | 'contains' | 'startswith' | 'endswith',
  needle: string,
): (s: string) => boolean {
  if (how === 'eq') return (s) => s === needle;
  if (how === 'startswith') return (s) => s.startsWith(needle);
  if (how === 'endswith') return (s) => s.endsWith(needle);
  return (s) => s.includes(needle);
}
