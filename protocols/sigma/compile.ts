/**
 * Compiles validated detection rules into matchers over the `Event` (rules specification
 * "Detection" and "Condition"). Search identifiers become tests (a map is the AND of its items, a
 * list the OR of its elements, a list of plain values a keyword search), the condition combines
 * them, global filters (filters specification) are AND NOT-ed on, and the logsource becomes a guard
 * on `event.source`. Everything is compiled into one rule set sharing one field cache, so each
 * field of an event is read and lower-cased once, however many rules look at it.
 */
import type { Event, EventSource } from '../event/schema.ts';
import { type ConditionNode, identifiersMatching, parseCondition } from './condition.ts';
import { FieldTable } from './field-access.ts';
import { parseModifierChain } from './modifiers.ts';
import {
  fail,
  ok,
  ruleLabel,
  type SigmaError,
  type SigmaFilter,
  type SigmaLogsource,
  type SigmaResult,
  type SigmaRule,
} from './types.ts';
import { compileItem, type Test, type ValueCompileOptions } from './values.ts';

export interface SigmaCompileOptions {
  /** Rule field name → Event path, e.g. `{ ClientId: 'fields.client_id', DestinationPort: 'dst.port' }`. */
  fieldMap?: Readonly<Record<string, string>>;
  /** Values of `expand` placeholders, e.g. `{ Administrators: ['admin', 'root'] }`. */
  placeholders?: Readonly<Record<string, readonly string[]>>;
  /** Where keyword searches look (default `['message']`). */
  keywordFields?: readonly string[];
  /**
   * Logsource → the Event sources it covers, keyed `product:<x>`, `category:<x>` or `service:<x>`;
   * merged over DEFAULT_LOGSOURCES. A logsource with no mapped attribute applies to every source.
   */
  logsources?: Readonly<Record<string, readonly EventSource[]>>;
  /** Bound on the strings one value may expand into (default 4096). */
  maxExpansions?: number;
}

/**
 * Our sources by name, and `linux` (whose logs arrive as syslog). Other products (cisco, juniper,
 * zeek...) are mapped by configuration, e.g. `{ 'product:cisco': ['syslog'] }`, where such devices
 * are present: mapping them by default would run their keyword rules on every Linux host's log.
 */
export const DEFAULT_LOGSOURCES: Readonly<Record<string, readonly EventSource[]>> = {
  'product:modbus': ['modbus'],
  'product:mqtt': ['mqtt'],
  'product:coap': ['coap'],
  'product:syslog': ['syslog'],
  'product:linux': ['syslog'],
  'service:syslog': ['syslog'],
};

export interface CompiledRule {
  readonly rule: SigmaRule;
  /** id, else name, else title: how alerts and correlations name it. */
  readonly key: string;
  /** The sources the logsource covers; null when it covers every source, empty when none (inactive). */
  readonly sources: ReadonlySet<string> | null;
  /** The filters applied to it (their ids or titles). */
  readonly filters: readonly string[];
}

export interface SigmaRuleSet {
  readonly rules: readonly CompiledRule[];
  /** One entry per rule or filter that was refused; a refused rule is not in `rules`. */
  readonly errors: readonly SigmaError[];
  /** The rules the event matches, in rule order. Pure; allocates only the result array. */
  match(event: Event): CompiledRule[];
  /** Same, reusing `out` (cleared first): the allocation-free form for the pipeline. */
  matchInto(event: Event, out: CompiledRule[]): CompiledRule[];
}

/**
 * Which sources a logsource covers: the intersection of its mapped attributes. A logsource that
 * names a product, category or service but none that is mapped covers no source (its rule is
 * compiled, so errors still show, but stays inactive); one that names nothing covers every source.
 */
export function logsourceSources(
  logsource: SigmaLogsource,
  table: Readonly<Record<string, readonly EventSource[]>>,
): Set<string> | null {
  let result: Set<string> | null = null;
  let named = false;
  for (const attr of ['product', 'category', 'service'] as const) {
    const v = logsource[attr];
    if (v === undefined) continue;
    named = true;
    const key = `${attr}:${v.toLowerCase()}`;
    const mapped = Object.hasOwn(table, key) ? table[key] : undefined;
    if (!mapped) continue;
    const allowed: readonly string[] = mapped;
    result = new Set(
      result ? [...(result as Set<string>)].filter((s: string) => allowed.includes(s)) : allowed,
    );
  }
  return result ?? (named ? new Set<string>() : null);
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** One search identifier → a test (rules specification "Search-Identifier", "Lists", "Maps"). */
function compileSearch(
  table: FieldTable,
  def: unknown,
  opts: ValueCompileOptions,
  path: string,
): SigmaResult<Test> {
  if (isMap(def)) {
    const keys = Object.keys(def);
    if (keys.length === 0)
      return fail('invalid_detection', `${path}: an empty map matches nothing`, { path });
    const tests: Test[] = [];
    for (const key of keys) {
      const chain = parseModifierChain(key);
      if (!chain.ok) return { ok: false, error: { ...chain.error, path: `${path}.${key}` } };
      const t = compileItem(table, chain.value, def[key], opts, `${path}.${key}`);
      if (!t.ok) return t;
      tests.push(t.value);
    }
    return ok(tests.length === 1 ? tests[0]! : () => tests.every((t) => t()));
  }
  if (Array.isArray(def)) {
    if (def.length === 0)
      return fail('invalid_detection', `${path}: an empty list matches nothing`, { path });
    const tests: Test[] = [];
    const keywords: unknown[] = [];
    for (let i = 0; i < def.length; i++) {
      const el = def[i];
      if (isMap(el)) {
        const t = compileSearch(table, el, opts, `${path}[${i}]`);
        if (!t.ok) return t;
        tests.push(t.value);
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
      tests.unshift(t.value);
    }
    return ok(tests.length === 1 ? tests[0]! : () => tests.some((t) => t()));
  }
  if (typeof def === 'string' || typeof def === 'number') {
    const chain = parseModifierChain('');
    return chain.ok ? compileItem(table, chain.value, def, opts, path) : chain;
  }
  return fail('invalid_detection', `${path}: a search identifier is a list or a map`, { path });
}

function compileCondition(node: ConditionNode, ids: ReadonlyMap<string, Test>): SigmaResult<Test> {
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
      const f = inner.value;
      return ok(() => !f());
    }
    case 'and':
    case 'or': {
      const parts: Test[] = [];
      for (const item of node.items) {
        const r = compileCondition(item, ids);
        if (!r.ok) return r;
        parts.push(r.value);
      }
      return ok(node.t === 'and' ? () => parts.every((p) => p()) : () => parts.some((p) => p()));
    }
    case 'of': {
      const names = identifiersMatching(node.pattern, [...ids.keys()]);
      if (names.length === 0)
        return fail('unknown_identifier', `'${node.count} of ${node.pattern}' matches no search identifier`);
      const parts = names.map((n) => ids.get(n)!);
      if (node.count === 'all') return ok(() => parts.every((p) => p()));
      const need = node.count;
      if (need === 1) return ok(() => parts.some((p) => p()));
      return ok(() => {
        let hits = 0;
        for (const p of parts) if (p() && ++hits >= need) return true;
        return false;
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
): SigmaResult<Test> {
  const ids = new Map<string, Test>();
  for (const [name, def] of Object.entries(detection)) {
    const t = compileSearch(table, def, opts, `${prefix}.${name}`);
    if (!t.ok) return t;
    ids.set(name, t.value);
  }
  const parts: Test[] = [];
  for (const text of conditions) {
    const ast = parseCondition(text);
    if (!ast.ok) return { ok: false, error: { ...ast.error, path: `${prefix}.condition` } };
    const t = compileCondition(ast.value, ids);
    if (!t.ok) return { ok: false, error: { ...t.error, path: `${prefix}.condition` } };
    parts.push(t.value);
  }
  if (parts.length === 0) return fail('invalid_condition', 'no condition', { path: `${prefix}.condition` });
  return ok(parts.length === 1 ? parts[0]! : () => parts.some((p) => p()));
}

/** Compiles rules (and the filters that name them) into one rule set; refusals go to `errors`. */
export function compileRuleSet(
  rules: readonly SigmaRule[],
  options: SigmaCompileOptions = {},
  filters: readonly SigmaFilter[] = [],
): SigmaRuleSet {
  const table = new FieldTable(options.fieldMap ?? {});
  const opts: ValueCompileOptions = {
    placeholders: options.placeholders ?? {},
    keywordFields: options.keywordFields ?? ['message'],
    maxExpansions: options.maxExpansions ?? 4096,
  };
  const logsources = { ...DEFAULT_LOGSOURCES, ...options.logsources };
  const errors: SigmaError[] = [];
  const filterTests = new Map<string, Array<{ label: string; test: Test }>>();
  for (const f of filters) {
    const t = compileDetection(table, f.detection, f.condition, opts, 'filter');
    if (!t.ok) {
      errors.push({ ...t.error, rule: ruleLabel(f), message: `${ruleLabel(f)}: ${t.error.message}` });
      continue;
    }
    for (const ref of f.rules) {
      const list = filterTests.get(ref) ?? [];
      list.push({ label: ruleLabel(f), test: t.value });
      filterTests.set(ref, list);
    }
  }
  const compiled: Array<{ rule: CompiledRule; test: Test; sources: ReadonlySet<string> | null }> = [];
  for (const rule of rules) {
    const label = ruleLabel(rule);
    const t = compileDetection(table, rule.detection, rule.condition, opts, 'detection');
    if (!t.ok) {
      errors.push({ ...t.error, rule: label, message: `${label}: ${t.error.message}` });
      continue;
    }
    const applied = [
      ...(rule.id ? (filterTests.get(rule.id) ?? []) : []),
      ...(rule.name ? (filterTests.get(rule.name) ?? []) : []),
    ];
    const base = t.value;
    const test: Test = applied.length === 0 ? base : () => base() && !applied.some((f) => f.test());
    const sources = logsourceSources(rule.logsource, logsources);
    const cr: CompiledRule = { rule, key: label, sources, filters: applied.map((f) => f.label) };
    compiled.push({ rule: cr, test, sources });
  }
  const active = compiled.filter((c) => c.sources === null || c.sources.size > 0);
  const matchInto = (event: Event, out: CompiledRule[]): CompiledRule[] => {
    out.length = 0;
    table.begin(event);
    for (let i = 0; i < active.length; i++) {
      const c = active[i]!;
      if (c.sources !== null && !c.sources.has(event.source)) continue;
      let hit = false;
      try {
        hit = c.test();
      } catch {
        hit = false; // defensive: a matcher must never throw across the pipeline boundary
      }
      if (hit) out.push(c.rule);
    }
    return out;
  };
  return {
    rules: compiled.map((c) => c.rule),
    errors,
    match: (event) => matchInto(event, []),
    matchInto,
  };
}
