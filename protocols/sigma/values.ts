/**
 * Compiles one detection item, a field (or keyword search) with its modifier chain and values,
 * into a test over the current event. All parsing, expansion, encoding and regex construction
 * happens here, once; the returned closure only reads the field cache (field-access.ts) and runs
 * prepared string, number or CIDR comparisons.
 */
import { base64Of, base64OffsetVariants, bytesAsText, encodeBytes } from './encodings.ts';
import type { FieldTable } from './field-access.ts';
import { cidrContains, parseCidr } from './ip.ts';
import type { ModifierChain } from './modifiers.ts';
import {
  applyWindash,
  windashVariants,
  compilePattern,
  expandPlaceholders,
  literalOf,
  parseSigmaString,
  type StringMatcher,
} from './sigma-string.ts';
import { compileLinearRegex } from './regex.ts';
import { NO_NEED, type Need } from './rule-index.ts';
import { timePart, toNumber } from './time-parts.ts';
import { fail, ok, type SigmaResult } from './types.ts';

export type Test = () => boolean;

/** A compiled test and what it cannot pass without (rule-index.ts). */
export interface Compiled {
  test: Test;
  need: Need;
}

export interface ValueCompileOptions {
  placeholders: Readonly<Record<string, readonly string[]>>;
  /** Event paths a keyword (a value without a field) is searched in. */
  keywordFields: readonly string[];
  /** Upper bound on the strings one value may expand into (placeholders, base64offset). */
  maxExpansions: number;
}

/**
 * Compiles `chain: value` (value a scalar, null or a list) into a test. `path` names it in errors.
 * A plain field compared for equality (`action: [a, b]`) also yields its need: one of the values.
 */
export function compileItem(
  table: FieldTable,
  chain: ModifierChain,
  value: unknown,
  options: ValueCompileOptions,
  path: string,
): SigmaResult<Compiled> {
  const values = Array.isArray(value) ? value : [value];
  const where = { path };
  if (values.length === 0)
    return fail('invalid_value', `${path}: an empty list of values matches nothing`, where);
  if (chain.all && values.length < 2)
    return fail(
      'invalid_modifier',
      `${path}: 'all' needs a list of two or more values (modifiers appendix)`,
      where,
    );
  const keyword = chain.field === '';
  if (keyword && (chain.kind === 'exists' || chain.kind === 'fieldref'))
    return fail('invalid_modifier', `${path}: '${chain.kind}' needs a field name`, where);
  const slots = keyword ? options.keywordFields.map((f) => table.slot(f)) : [table.slot(chain.field)];
  // Keywords are searched anywhere in the text (rules specification "Keywords search").
  const c: ModifierChain =
    keyword && chain.kind === 'string' && chain.position === 'exact'
      ? { ...chain, position: 'contains' }
      : chain;
  // The same item in several rules (`action: mqtt.subscribe`, `severity|lte: 2`) is decided once
  // per event: the later copies share one result through the table's per-event memo.
  // Only lists of scalars: anything else is refused below, and has no exact text form.
  const scalars = values.every((v: unknown) => v === null || typeof v !== 'object');
  const memoKey = scalars
    ? JSON.stringify([
        slots,
        { ...c, field: '' },
        values.map((v: unknown) => [typeof v, String(v)]), // exact for scalars: 1 ≠ '1', NaN ≠ null
      ])
    : undefined;
  const shared = memoKey === undefined ? undefined : table.shared<Compiled>(memoKey);
  if (shared) return ok(shared);
  const r = compileValues(table, c, values, slots, keyword, options, path);
  if (r.ok && memoKey !== undefined) table.share(memoKey, r.value);
  return r;
}

function compileValues(
  table: FieldTable,
  c: ModifierChain,
  values: readonly unknown[],
  slots: number[],
  keyword: boolean,
  options: ValueCompileOptions,
  path: string,
): SigmaResult<Compiled> {
  const where = { path };

  const tests: Test[] = [];
  const matchers: StringMatcher[] = [];
  for (const v of values) {
    if (v !== null && typeof v === 'object')
      return fail(
        'invalid_value',
        `${path}: a value must be a string, number, boolean or null, not a map or list`,
        where,
      );
    if (c.kind === 'string' && v !== null && v !== undefined) {
      const r = compileStrings(c, String(v), options, path);
      if (!r.ok) return r;
      if (c.all) tests.push(anyOf(table, slots, r.value));
      else matchers.push(...r.value);
      continue;
    }
    const r = compileOne(table, c, v as string | number | boolean | null | undefined, slots, path);
    if (!r.ok) return r;
    tests.push(...r.value);
  }
  if (matchers.length > options.maxExpansions)
    return fail('limit', `${path}: expands into more than ${options.maxExpansions} values`, where);
  const equalities = tests.length === 0 && matchers.every((m) => m.how === 'eq' && m.needle !== undefined);
  if (matchers.length > 0) tests.unshift(anyOf(table, slots, matchers));
  let combined: Test;
  if (tests.length === 1) combined = tests[0]!;
  else if (c.all) combined = () => tests.every((t) => t());
  else combined = () => tests.some((t) => t());
  if (c.neq) {
    const present = () => slots.some((s) => table.raw(s) !== undefined && table.raw(s) !== null);
    const inner = combined;
    return ok({ test: () => present() && !inner(), need: NO_NEED });
  }
  // Equality (cased or not) implies equality of the lower-cased texts: the index's key.
  const need: Need =
    equalities && !keyword && matchers.length > 0
      ? new Map([[slots[0]!, new Set(matchers.map((m) => m.needle!.toLowerCase()))]])
      : NO_NEED;
  return ok({ test: combined, need });
}

/** The tests of one value; several when the value expands (placeholders, base64offset). */
function compileOne(
  table: FieldTable,
  c: ModifierChain,
  v: string | number | boolean | null | undefined,
  slots: number[],
  path: string,
): SigmaResult<Test[]> {
  const where = { path };
  if (v === null || v === undefined) {
    if (c.kind !== 'string' || c.position !== 'exact' || c.base64 || c.utf16)
      return fail('invalid_value', `${path}: null only combines with a plain field`, where);
    // Rules specification "Special Field Values": null is a field that is absent or empty of value.
    return ok([() => slots.every((s) => table.raw(s) === undefined || table.raw(s) === null)]);
  }
  switch (c.kind) {
    case 'exists': {
      if (typeof v !== 'boolean')
        return fail('invalid_value', `${path}: 'exists' takes true or false`, where);
      const s = slots[0]!;
      return ok([() => (table.raw(s) !== undefined) === v]);
    }
    case 'compare': {
      const n = toNumber(v);
      if (n === undefined)
        return fail(
          'invalid_value',
          `${path}: '${c.compare ?? c.timePart}' needs a number, got ${JSON.stringify(v)}`,
          where,
        );
      const op = c.compare;
      const cmp =
        op === 'lt'
          ? (x: number) => x < n
          : op === 'lte'
            ? (x: number) => x <= n
            : op === 'gt'
              ? (x: number) => x > n
              : op === 'gte'
                ? (x: number) => x >= n
                : (x: number) => x === n;
      const part = c.timePart;
      const one = (item: unknown) => {
        const x = part ? timePart(item, part) : toNumber(item);
        return x !== undefined && cmp(x);
      };
      return ok([
        () => {
          for (let k = 0; k < slots.length; k++) {
            const raw = table.raw(slots[k]!);
            if (!Array.isArray(raw)) {
              if (one(raw)) return true;
              continue;
            }
            for (let i = 0; i < raw.length; i++) if (one(raw[i])) return true;
          }
          return false;
        },
      ]);
    }
    case 'cidr': {
      const cidr = typeof v === 'string' ? parseCidr(v) : undefined;
      if (!cidr)
        return fail('invalid_cidr', `${path}: '${String(v)}' is not an IPv4 or IPv6 CIDR range`, where);
      return ok([() => slots.some((s) => table.strings(s).some((x) => cidrContains(cidr, x)))]);
    }
    case 're': {
      if (typeof v !== 'string') return fail('invalid_value', `${path}: 're' needs a string`, where);
      // Linear time whatever the pattern (regex.ts); refused here, naming the rule and field.
      // The search is unanchored: `re|startswith` / `re|endswith` anchor it, `re|contains` is as is.
      const source = c.position === 'startswith' ? `^(?:${v})` : c.position === 'endswith' ? `(?:${v})$` : v;
      const r = compileLinearRegex(source, c.reFlags);
      if (!r.ok) return fail('invalid_regex', `${path}: ${r.message}`, where);
      const re = r.value;
      return ok([() => slots.some((s) => table.strings(s).some((x) => re.test(x)))]);
    }
    case 'fieldref': {
      if (typeof v !== 'string' || v === '')
        return fail('invalid_value', `${path}: 'fieldref' needs a field name`, where);
      const other = table.slot(v);
      const self = slots[0]!;
      const cased = c.cased;
      const pos = c.position;
      const cmp = (a: string, b: string) =>
        pos === 'contains'
          ? a.includes(b)
          : pos === 'startswith'
            ? a.startsWith(b)
            : pos === 'endswith'
              ? a.endsWith(b)
              : a === b;
      return ok([
        () => {
          const mine = cased ? table.strings(self) : table.lowers(self);
          const theirs = cased ? table.strings(other) : table.lowers(other);
          return mine.some((a) => theirs.some((b) => cmp(a, b)));
        },
      ]);
    }
    case 'string':
      return fail('invalid_value', `${path}: unexpected string value`, where);
  }
}

/** One string value → its matchers (several when it expands: placeholders, base64offset). */
function compileStrings(
  c: ModifierChain,
  text: string,
  options: ValueCompileOptions,
  path: string,
): SigmaResult<StringMatcher[]> {
  const where = { path };
  let raws = [text];
  if (c.expand) {
    const x = expandPlaceholders(text, options.placeholders, options.maxExpansions);
    if ('unknown' in x)
      return fail(
        'unknown_placeholder',
        `${path}: placeholder %${x.unknown}% is not defined in the configuration`,
        where,
      );
    if ('tooMany' in x)
      return fail('limit', `${path}: expands into more than ${options.maxExpansions} values`, where);
    raws = x.values;
  }
  if (c.windash && (c.base64 || c.utf16)) {
    // Encoded text has no dash class: each spelling is encoded on its own (as pySigma does).
    const variants: string[] = [];
    for (const raw of raws) {
      const more = windashVariants(raw, options.maxExpansions - variants.length);
      if (!more)
        return fail('limit', `${path}: expands into more than ${options.maxExpansions} values`, where);
      variants.push(...more);
    }
    raws = variants;
  }
  const matchers: StringMatcher[] = [];
  for (const raw of raws) {
    let tokens = parseSigmaString(raw);
    if (c.base64 || c.utf16) {
      const lit = literalOf(tokens);
      if (lit === undefined)
        return fail(
          'invalid_value',
          `${path}: wildcards cannot be encoded; use '${c.base64 ? 'base64offset|contains' : 'contains'}'`,
          where,
        );
      const bytes = encodeBytes(lit, c.utf16);
      const encoded =
        c.base64 === 'offset'
          ? base64OffsetVariants(bytes)
          : c.base64
            ? [base64Of(bytes)]
            : [bytesAsText(bytes)];
      // Base64 text is case-significant: matching it case-insensitively would only add false hits.
      const cased = c.cased || c.base64 !== undefined;
      for (const e of encoded) matchers.push(compilePattern([{ t: 'lit', s: e }], c.position, cased));
      continue;
    }
    if (c.windash) tokens = applyWindash(tokens);
    try {
      matchers.push(compilePattern(tokens, c.position, c.cased));
    } catch (error) {
      return fail('invalid_value', `${path}: ${(error as Error).message}`, where);
    }
  }
  return ok(matchers);
}

/**
 * One test for "any of these matchers matches any string of these fields". Case-insensitive
 * literals are grouped by kind so that a keyword list of forty strings is one loop over plain
 * strings against the lower-cased field, with a Set for equality.
 */
function anyOf(table: FieldTable, slots: readonly number[], matchers: readonly StringMatcher[]): Test {
  if (matchers.some((m) => m.how === 'any')) return () => slots.some((s) => table.strings(s).length > 0);
  const eq = new Set<string>();
  const contains: string[] = [];
  const starts: string[] = [];
  const ends: string[] = [];
  const other: StringMatcher[] = [];
  for (const m of matchers) {
    if (m.cased || m.needle === undefined) other.push(m);
    else if (m.how === 'eq') eq.add(m.needle);
    else if (m.how === 'contains') contains.push(m.needle);
    else if (m.how === 'startswith') starts.push(m.needle);
    else if (m.how === 'endswith') ends.push(m.needle);
    else other.push(m);
  }
  const needLower = eq.size + starts.length + ends.length > 0;
  const otherLower = other.some((m) => !m.cased);
  const testLower = (l: string): boolean => {
    if (eq.size > 0 && eq.has(l)) return true;
    for (let i = 0; i < starts.length; i++) if (l.startsWith(starts[i]!)) return true;
    for (let i = 0; i < ends.length; i++) if (l.endsWith(ends[i]!)) return true;
    return false;
  };
  // Contains-literals are found by the slot's shared scan (field-access.ts), not one by one.
  const needleIds = slots.map((s) => contains.map((c) => table.needle(s, c)));
  return () => {
    for (let k = 0; k < slots.length; k++) {
      const s = slots[k]!;
      const ids = needleIds[k]!;
      if (ids.length > 0 && table.containsAny(s, ids)) return true;
      if (needLower) {
        const lows = table.lowers(s);
        for (let i = 0; i < lows.length; i++) if (testLower(lows[i]!)) return true;
      }
      if (other.length > 0) {
        const strs = table.strings(s);
        const lows = otherLower ? table.lowers(s) : strs;
        for (let i = 0; i < strs.length; i++)
          for (let j = 0; j < other.length; j++) if (other[j]!.test(strs[i]!, lows[i]!)) return true;
      }
    }
    return false;
  };
}
