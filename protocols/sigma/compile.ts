/**
 * Compiles validated detection rules into matchers over the `Event` (rules specification
 * "Detection" and "Condition"). Search identifiers become tests (a map is the AND of its items, a
 * list the OR of its elements, a list of plain values a keyword search), the condition combines
 * them, global filters (filters specification) are AND NOT-ed on, and the logsource becomes a guard
 * on `event.source`. Everything is compiled into one rule set sharing one field cache, so each
 * field of an event is read and lower-cased once, however many rules look at it.
 */
import type { Event, EventSource } from '../event/schema.ts';
import { compileDetection } from './detection.ts';
import { FieldTable } from './field-access.ts';
import { buildRuleIndex, type Need } from './rule-index.ts';
import {
  ruleLabel,
  type SigmaError,
  type SigmaFilter,
  type SigmaLogsource,
  type SigmaRule,
} from './types.ts';
import type { Test, ValueCompileOptions } from './values.ts';
import { type WindowsGuardReaders, windowsLogsourceGuard } from './windows.ts';

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
  /**
   * Skip rules an event cannot match (rule-index.ts; default true). False evaluates every rule of
   * the event's source: the same matches, slower; kept to check the index against.
   */
  index?: boolean;
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
  'product:bacnet': ['bacnet'],
  'product:enip': ['enip'],
  'product:dnp3': ['dnp3'],
  'product:opcua': ['opcua'],
  'product:windows': ['windows'],
  'product:s7comm': ['s7comm'],
  'product:syslog': ['syslog'],
  'product:linux': ['syslog'],
  'service:syslog': ['syslog'],
};

/**
 * Placeholders the shipped rules use (`%engineering_stations%` in rules/ics/s7comm-recon.yml),
 * empty until a site configures them (gateway `detection.placeholders`): a rule excluding the
 * engineering stations then excludes nobody rather than being refused. Configured values replace
 * these; any other placeholder must be configured or its rule is refused (`unknown_placeholder`).
 */
export const DEFAULT_PLACEHOLDERS: Readonly<Record<string, readonly string[]>> = {
  engineering_stations: [],
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

/** Compiles rules (and the filters that name them) into one rule set; refusals go to `errors`. */
export function compileRuleSet(
  rules: readonly SigmaRule[],
  options: SigmaCompileOptions = {},
  filters: readonly SigmaFilter[] = [],
): SigmaRuleSet {
  const table = new FieldTable(options.fieldMap ?? {});
  const opts: ValueCompileOptions = {
    placeholders: { ...DEFAULT_PLACEHOLDERS, ...options.placeholders },
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
      list.push({ label: ruleLabel(f), test: t.value.test });
      filterTests.set(ref, list);
    }
  }
  let windows: WindowsGuardReaders | undefined;
  // Slots for the Windows guard, allocated only when a rule has `product: windows`.
  const windowsReaders = (): WindowsGuardReaders => {
    if (windows) return windows;
    const source = table.slot('source');
    const channel = table.slot('fields.winlog.channel');
    const eventId = table.slot('fields.winlog.event_id');
    windows = {
      source: () => table.raw(source),
      channel: () => table.raw(channel),
      eventId: () => table.raw(eventId),
    };
    return windows;
  };
  const compiled: Array<{
    rule: CompiledRule;
    test: Test;
    sources: ReadonlySet<string> | null;
    need: Need;
  }> = [];
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
    const filtered = t.value.test;
    const base: Test = applied.length === 0 ? filtered : () => filtered() && !applied.some((f) => f.test());
    let sources = logsourceSources(rule.logsource, logsources);
    // product: windows narrows by service (channel) and category (channel, event ids): windows.ts.
    const guard =
      rule.logsource.product?.toLowerCase() === 'windows'
        ? windowsLogsourceGuard(rule.logsource, windowsReaders())
        : undefined;
    if (guard?.inactive && sources !== null && [...sources].every((x) => x === 'windows'))
      sources = new Set<string>();
    const only = guard?.test;
    const test: Test = only ? () => only() && base() : base;
    const cr: CompiledRule = { rule, key: label, sources, filters: applied.map((f) => f.label) };
    // A filter only narrows its rule (AND NOT), so the rule's own need stands.
    compiled.push({ rule: cr, test, sources, need: t.value.need });
  }
  const active = compiled.filter((c) => c.sources === null || c.sources.size > 0);
  // The index also applies the logsource guard: it only offers rules of the event's source.
  const index = buildRuleIndex(table, active, options.index ?? true);
  const candidates: number[] = [];
  const hits: number[] = [];
  const matchInto = (event: Event, out: CompiledRule[]): CompiledRule[] => {
    if (out.length > 0) out.length = 0; // (setting length is a runtime call, even to 0 on [])
    if (hits.length > 0) hits.length = 0;
    table.begin(event);
    const unsorted = index.candidates(event.source, candidates);
    for (let i = 0; i < candidates.length; i++) {
      const r = candidates[i]!;
      let hit = false;
      try {
        hit = active[r]!.test();
      } catch {
        hit = false; // defensive: a matcher must never throw across the pipeline boundary
      }
      if (hit) hits.push(r);
    }
    if (unsorted && hits.length > 1) hits.sort((a, b) => a - b); // results keep rule order
    for (let i = 0; i < hits.length; i++) out.push(active[hits[i]!]!.rule);
    return out;
  };
  return {
    rules: compiled.map((c) => c.rule),
    errors,
    match: (event) => matchInto(event, []),
    matchInto,
  };
}
