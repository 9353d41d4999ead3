/**
 * Compiles a detection section into one test over the current event (rules specification
 * "Detection" and "Condition"): a map is the AND of its items, a list the OR of its elements, a
 * list of plain values a keyword search; the condition combines the search identifiers. Alongside
 * each test goes its `Need` (rule-index.ts), combined by the same structure, so the rule set can
 * skip rules an event cannot match. Combinators are plain loops (no per-event allocation) and
 * short-circuit; the items of a map are tried cheapest first (equality before regexes), which
 * cannot change the result since tests have no side effects beyond the per-event field cache.
 */
import { type ConditionNode, identifiersMatching, parseCondition } from './condition.ts';
import type { FieldTable } from './field-access.ts';
import { parseModifierChain, type ModifierChain } from './modifiers.ts';
import { NO_NEED, needAll, needAny } from './rule-index.ts';
import { fail, ok, type SigmaResult } from './types.ts';
import { type Compiled, compileItem, type Test, type ValueCompileOptions } from './values.ts';

/** True when every test passes (in order, stopping at the first that fails). */
export function allOf(tests: readonly Test[]): Test {
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return () => a() && b();
  }
  return () => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!()) return false;
    return true;
  };
}

/** True when some test passes (in order, stopping at the first that does). */
export function someOf(tests: readonly Test[]): Test {
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return () => a() || b();
  }
  return () => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!()) return true;
    return false;
  };
}

/** Rough cost of an item's test, to try cheap ones first inside a map. */
function costOf(chain: ModifierChain, need: Compiled['need']): number {
  if (need.size > 0) return 0; // equality: a Set lookup on the cached lower-cased text
  if (chain.kind === 'compare' || chain.kind === 'exists') return 1;
  if (chain.kind === 'string' && chain.position !== 'contains') return 2;
  return chain.kind === 're' || chain.kind === 'cidr' || chain.kind === 'fieldref' ? 4 : 3;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** One search identifier → a test (rules specification "Search-Identifier", "Lists", "Maps"). */
function compileSearch(
  table: FieldTable,
  def: unknown,
  opts: ValueCompileOptions,
  path: string,
): SigmaResult<Compiled> {
  if (isMap(def)) {
    const keys = Object.keys(def);
    if (keys.length === 0)
      return fail('invalid_detection', `${path}: an empty map matches nothing`, { path });
    const items: Array<Compiled & { cost: number }> = [];
    for (const key of keys) {
      const chain = parseModifierChain(key);
      if (!chain.ok) return { ok: false, error: { ...chain.error, path: `${path}.${key}` } };
      const t = compileItem(table, chain.value, def[key], opts, `${path}.${key}`);
      if (!t.ok) return t;
      items.push({ ...t.value, cost: costOf(chain.value, t.value.need) });
    }
    const ordered = [...items].sort((a, b) => a.cost - b.cost); // stable: ties keep rule order
    return ok({ test: allOf(ordered.map((i) => i.test)), need: needAll(items.map((i) => i.need)) });
  }
  if (Array.isArray(def)) {
    if (def.length === 0)
      return fail('invalid_detection', `${path}: an empty list matches nothing`, { path });
    const parts: Compiled[] = [];
    const keywords: unknown[] = [];
    for (let i = 0; i < def.length; i++) {
      const el = def[i];
      if (isMap(el)) {
        const t = compileSearch(table, el, opts, `${path}[${i}]`);
        if (!t.ok) return t;
        parts.push(t.value);
      } else if (typeof el === 'string' || typeof el === 'number' || typeof el === 'boolean')
        keywords.push(el);
      else
        return fail(
          'invalid_detection',
          `${path}[${i}]: a list holds keywords or maps, not ${JSON.stringify(el)}`,
          { path },
        );
    }
    if (keywords.length > 0) {
      const chain = parseModifierChain('');
      if (!chain.ok) return chain;
      const t = compileItem(table, chain.value, keywords, opts, path);
      if (!t.ok) return t;
      parts.unshift(t.value);
    }
    return ok({ test: someOf(parts.map((p) => p.test)), need: needAny(parts.map((p) => p.need)) });
  }
  if (typeof def === 'string' || typeof def === 'number') {
    const chain = parseModifierChain('');
    return chain.ok ? compileItem(table, chain.value, def, opts, path) : chain;
  }
  return fail('invalid_detection', `${path}: a search identifier is a list or a map`, { path });
}

function compileCondition(node: ConditionNode, ids: ReadonlyMap<string, Compiled>): SigmaResult<Compiled> {
  switch (node.t) {
    case 'id': {
      const t = ids.get(node.name);
      return t
        ? ok(t)
        : fail(
            'unknown_identifier',
            `the condition names '${node.name}', which the detection does not define`,
          );
    }
    case 'not': {
      const inner = compileCondition(node.item, ids);
      if (!inner.ok) return inner;
      const f = inner.value.test;
      return ok({ test: () => !f(), need: NO_NEED });
    }
    case 'and':
    case 'or': {
      const parts: Compiled[] = [];
      for (const item of node.items) {
        const r = compileCondition(item, ids);
        if (!r.ok) return r;
        parts.push(r.value);
      }
      const tests = parts.map((p) => p.test);
      const needs = parts.map((p) => p.need);
      return ok(
        node.t === 'and'
          ? { test: allOf(tests), need: needAll(needs) }
          : { test: someOf(tests), need: needAny(needs) },
      );
    }
    case 'of': {
      const names = identifiersMatching(node.pattern, [...ids.keys()]);
      if (names.length === 0)
        return fail('unknown_identifier', `'${node.count} of ${node.pattern}' matches no search identifier`);
      const parts = names.map((n) => ids.get(n)!);
      const tests = parts.map((p) => p.test);
      const needs = parts.map((p) => p.need);
      if (node.count === 'all') return ok({ test: allOf(tests), need: needAll(needs) });
      // `N of`: at least one must hold, so what all of them need is needed.
      const need = needAny(needs);
      if (node.count === 1) return ok({ test: someOf(tests), need });
      const n = node.count;
      return ok({
        test: () => {
          let hits = 0;
          for (let i = 0; i < tests.length; i++) if (tests[i]!() && ++hits >= n) return true;
          return false;
        },
        need,
      });
    }
  }
}

/** A detection section (identifiers + condition list) → one test. Used for rules and filters. */
export function compileDetection(
  table: FieldTable,
  detection: Record<string, unknown>,
  conditions: readonly string[],
  opts: ValueCompileOptions,
  prefix: string,
): SigmaResult<Compiled> {
  const ids = new Map<string, Compiled>();
  for (const [name, def] of Object.entries(detection)) {
    const t = compileSearch(table, def, opts, `${prefix}.${name}`);
    if (!t.ok) return t;
    ids.set(name, t.value);
  }
  const parts: Compiled[] = [];
  for (const text of conditions) {
    const ast = parseCondition(text);
    if (!ast.ok) return { ok: false, error: { ...ast.error, path: `${prefix}.condition` } };
    const t = compileCondition(ast.value, ids);
    if (!t.ok) return { ok: false, error: { ...t.error, path: `${prefix}.condition` } };
    parts.push(t.value);
  }
  if (parts.length === 0) return fail('invalid_condition', 'no condition', { path: `${prefix}.condition` });
  return ok({ test: someOf(parts.map((p) => p.test)), need: needAny(parts.map((p) => p.need)) });
}
