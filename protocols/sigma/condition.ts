/**
 * The detection condition (rules specification "Condition"): search identifiers combined with
 * `and`, `or`, `not`, parentheses, and `1 of` / `all of` a pattern or `them`. Precedence from least
 * to most binding: or, and, not, x of, ( ). Parsing is pure, bounded in nesting depth and never
 * throws; it returns an AST or a typed error with the column of the problem.
 */
import { fail, ok, type SigmaResult } from './types.ts';

export type ConditionNode =
  | { t: 'id'; name: string }
  | { t: 'and'; items: ConditionNode[] }
  | { t: 'or'; items: ConditionNode[] }
  | { t: 'not'; item: ConditionNode }
  /** `1 of x*`, `all of them`; a count above 1 is an extension ("at least n"). */
  | { t: 'of'; count: number | 'all'; pattern: string };

/** Deeper nesting is refused (a guard for the recursive descent, far above any real rule). */
export const MAX_CONDITION_DEPTH = 64;
const MAX_CONDITION_CHARS = 16_384;

interface Token {
  text: string;
  lower: string;
  col: number;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[1] === undefined) break;
    out.push({ text: m[1], lower: m[1].toLowerCase(), col: m.index + m[0].length - m[1].length + 1 });
  }
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', '(', ')']);
const IDENT = /^[A-Za-z0-9_.\-*]+$/;

/** Parses one condition string. */
export function parseCondition(text: unknown): SigmaResult<ConditionNode> {
  if (typeof text !== 'string') return fail('invalid_condition', 'the condition must be a string');
  if (text.length > MAX_CONDITION_CHARS)
    return fail('limit', `the condition is longer than ${MAX_CONDITION_CHARS} characters`);
  if (text.includes('|'))
    return fail(
      'unsupported',
      'aggregation expressions in the condition (`| count() by ...`, `near`) are obsolete since Sigma v2: use a correlation rule',
    );
  const toks = tokenize(text);
  if (toks.length === 0) return fail('invalid_condition', 'the condition is empty');
  let pos = 0;
  let error: string | undefined;
  const bad = (msg: string): undefined => {
    if (!error) {
      const tok = toks[pos];
      error = tok ? `${msg} at column ${tok.col} ('${tok.text}')` : `${msg} at the end of the condition`;
    }
    return undefined;
  };

  const parseOr = (depth: number): ConditionNode | undefined => {
    if (depth > MAX_CONDITION_DEPTH) return bad(`nesting deeper than ${MAX_CONDITION_DEPTH}`);
    const items: ConditionNode[] = [];
    for (;;) {
      const n = parseAnd(depth);
      if (!n) return undefined;
      items.push(n);
      if (toks[pos]?.lower !== 'or') break;
      pos++;
    }
    return items.length === 1 ? items[0] : { t: 'or', items };
  };
  const parseAnd = (depth: number): ConditionNode | undefined => {
    const items: ConditionNode[] = [];
    for (;;) {
      const n = parseNot(depth);
      if (!n) return undefined;
      items.push(n);
      if (toks[pos]?.lower !== 'and') break;
      pos++;
    }
    return items.length === 1 ? items[0] : { t: 'and', items };
  };
  const parseNot = (depth: number): ConditionNode | undefined => {
    if (toks[pos]?.lower === 'not') {
      if (depth > MAX_CONDITION_DEPTH) return bad(`nesting deeper than ${MAX_CONDITION_DEPTH}`);
      pos++;
      const item = parseNot(depth + 1);
      return item && { t: 'not', item };
    }
    return parsePrimary(depth);
  };
  const parsePrimary = (depth: number): ConditionNode | undefined => {
    const tok = toks[pos];
    if (!tok) return bad('expected a search identifier');
    if (tok.text === '(') {
      pos++;
      const inner = parseOr(depth + 1);
      if (!inner) return undefined;
      if (toks[pos]?.text !== ')') return bad("expected ')'");
      pos++;
      return inner;
    }
    if (toks[pos + 1]?.lower === 'of') {
      let count: number | 'all';
      if (tok.lower === 'all') count = 'all';
      else if (/^[1-9]\d{0,5}$/.test(tok.text)) count = Number(tok.text);
      else return bad("expected '1' or 'all' before 'of'");
      pos += 2;
      const target = toks[pos];
      if (!target || KEYWORDS.has(target.lower) || !IDENT.test(target.text))
        return bad("expected 'them' or an identifier pattern after 'of'");
      pos++;
      return { t: 'of', count, pattern: target.lower === 'them' ? 'them' : target.text };
    }
    if (KEYWORDS.has(tok.lower)) return bad('expected a search identifier');
    if (!IDENT.test(tok.text) || tok.text.includes('*'))
      return bad('a search identifier may only hold letters, digits, _ . and -');
    pos++;
    return { t: 'id', name: tok.text };
  };

  const root = parseOr(0);
  if (root && pos < toks.length) bad('unexpected token');
  if (error || !root) return fail('invalid_condition', error ?? 'invalid condition');
  return ok(root);
}

/** Spec "1/all of search-identifier-pattern": `*` matches any run of characters; `them` all but `_x`. */
export function identifiersMatching(pattern: string, names: readonly string[]): string[] {
  if (pattern === 'them') return names.filter((n) => !n.startsWith('_'));
  const re = new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`);
  return names.filter((n) => re.test(n));
}

const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
