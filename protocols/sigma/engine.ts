/**
 * The detection engine: compiled Sigma rules, the correlations over them (chained as the
 * correlation specification allows) and alert grouping, behind one pure call,
 * `process(event, nowMs)`, which returns the alerts that event raised. Time is always passed in:
 * the gateway passes the event clock (so a replay detects as the live run would), central the
 * corrected event time across gateways. All state is bounded (see SPEC.md "Bounds"); nothing
 * throws at run time, and rules the engine cannot honour are refused at build time in `errors`.
 */
import type { Event } from '../event/schema.ts';
import { createAlertGrouper, type AlertDraft, type AlertGroup } from './alert-grouper.ts';
import { LEVEL_SEVERITY, maxLevel, tacticsOf, techniquesOf } from './attack.ts';
import { type CompiledRule, compileRuleSet } from './compile.ts';
import type { CorrelationHit } from './correlation.ts';
import type { SigmaAlert, SigmaEngine, SigmaEngineOptions, SigmaEngineSnapshot } from './engine-types.ts';
import { resolveField, stringsOf } from './field-access.ts';
import { keepOf, keptAttributes } from './group-event.ts';
import { planCorrelations, type CorrelationPlan } from './plan.ts';
import type { SigmaCorrelationRule, SigmaFilter, SigmaLevel, SigmaRule } from './types.ts';

export type {
  SigmaAlert,
  SigmaEngine,
  SigmaEngineOptions,
  SigmaEngineSnapshot,
  SigmaEngineStats,
} from './engine-types.ts';

interface Draft extends AlertDraft {
  source: {
    key: string;
    title: string;
    name?: string;
    type: SigmaAlert['rule']['type'];
    level: SigmaLevel;
    tags: string[];
  };
  entity: SigmaAlert['entity'];
  correlation?: SigmaAlert['correlation'];
}

interface Ref {
  plan: CorrelationPlan;
  /** The position of the rule in the correlation's `rules`. */
  ref: number;
}

/**
 * temporal_ordered: when one event matches several steps, the later step is fed first, so it never
 * completes two consecutive steps by itself. Stable: equal steps keep their order.
 */
const byLaterStep = (a: Ref, b: Ref) => b.ref - a.ref;
const laterFirst = (refs: readonly Ref[]): Ref[] => [...refs].sort(byLaterStep);

/** `entityOf(event).key` without building the entity. */
const entityKeyOf = (event: Event): string =>
  event.device?.id ?? event.host ?? event.src?.ip ?? event.gateway;

/** The device an event is about: its device id, else host, else peer address, else its gateway. */
export function entityOf(event: Event): SigmaAlert['entity'] {
  const key = entityKeyOf(event);
  const e: SigmaAlert['entity'] = { key, gateway: event.gateway };
  if (event.device?.id) e.device = event.device.id;
  if (event.host) e.host = event.host;
  return e;
}

export function createSigmaEngine(
  input: {
    rules: readonly SigmaRule[];
    correlations?: readonly SigmaCorrelationRule[];
    filters?: readonly SigmaFilter[];
  },
  options: SigmaEngineOptions = {},
): SigmaEngine {
  const ruleSet = compileRuleSet(input.rules, options, input.filters ?? []);
  const limits = {
    maxGroups: Math.max(1, options.maxGroupsPerCorrelation ?? 10_000),
    maxEventsPerGroup: Math.max(1, options.maxEventsPerGroup ?? 10_000),
    maxEventIds: Math.max(1, options.maxEventIds ?? 32),
  };
  const {
    plans,
    errors: planErrors,
    silent,
  } = planCorrelations(ruleSet.rules, input.correlations ?? [], limits);
  const errors = [...ruleSet.errors, ...planErrors];
  const fieldMap = options.fieldMap ?? {};
  const grouper = createAlertGrouper<Draft>({
    windowMs: options.alertWindowMs ?? 300_000,
    maxGroups: options.maxAlertGroups ?? 10_000,
    maxEventIds: limits.maxEventIds,
  });
  // What feeds each correlation, the later steps first (see feedRefs): sorted once here.
  const byRef = new Map<string, Ref[]>();
  for (const plan of plans)
    plan.refKeys.forEach((k, ref) => byRef.set(k, [...(byRef.get(k) ?? []), { plan, ref }]));
  for (const [k, refs] of byRef) byRef.set(k, laterFirst(refs));
  // The static part of a single-event rule's alert, built once rather than per match.
  const sources = new Map<CompiledRule, Draft['source']>(
    ruleSet.rules.map((cr) => {
      const r = cr.rule;
      const src: Draft['source'] = {
        key: cr.key,
        title: r.title,
        name: r.name,
        type: 'detection',
        level: r.level ?? 'medium',
        tags: r.tags,
      };
      return [cr, src];
    }),
  );
  const getter = (name: string) => resolveField(name, fieldMap).get;
  const getters = new Map<
    CorrelationPlan,
    Array<{ group: Array<(e: Event) => unknown>; field?: (e: Event) => unknown }>
  >();
  /** Per plan and reference, the Event paths its getters read (what groups feeding it keep: group-event.ts). */
  const paths = new Map<CorrelationPlan, string[][]>();
  for (const plan of plans) {
    const c = plan.rule;
    const aliasFor = (names: string[]) => (f: string) =>
      names.map((n) => c.aliases[f]?.[n]).find((x) => x !== undefined) ?? f;
    const read = [...c.groupBy, ...(c.condition?.field ? [c.condition.field] : [])];
    paths.set(
      plan,
      plan.refNames.map((names) => read.map((f) => resolveField(aliasFor(names)(f), fieldMap).path)),
    );
    getters.set(
      plan,
      plan.refNames.map((names) => {
        const alias = aliasFor(names);
        const g = { group: c.groupBy.map((f) => getter(alias(f))) } as {
          group: Array<(e: Event) => unknown>;
          field?: (e: Event) => unknown;
        };
        if (c.condition?.field) g.field = getter(alias(c.condition.field));
        return g;
      }),
    );
  }
  const kept = keptAttributes(
    plans,
    (plan) => paths.get(plan)!,
    (plan) => byRef.get(plan.key),
  );
  // A correlation's open groups carry over only to the same definition (restart, rule set swap).
  const fingerprints = new Map(
    plans.map((p) => {
      const r = p.rule;
      return [
        p,
        JSON.stringify([r.type, p.refKeys, r.groupBy, r.timespanMs, r.condition ?? null, r.aliases]),
      ];
    }),
  );
  const stats = { events: 0, ruleMatches: 0, correlationHits: 0, alertsNew: 0, alertsUpdated: 0 };
  let clock = -Infinity;
  const matched: CompiledRule[] = [];

  const toAlert = (g: AlertGroup<Draft>, kind: SigmaAlert['kind']): SigmaAlert => {
    const s = g.draft.source;
    const a: SigmaAlert = {
      id: g.id,
      kind,
      rule: { id: s.key, title: s.title, type: s.type, ...(s.name ? { name: s.name } : {}) },
      level: s.level,
      severity: LEVEL_SEVERITY[s.level],
      techniques: techniquesOf(s.tags),
      tactics: tacticsOf(s.tags),
      entity: g.draft.entity,
      event_ids: [...g.eventIds],
      count: g.count,
      first_ms: g.firstMs,
      last_ms: g.lastMs,
    };
    if (g.draft.correlation) a.correlation = g.draft.correlation;
    if (kind === 'new') stats.alertsNew++;
    else stats.alertsUpdated++;
    return a;
  };
  const raise = (draft: Draft, nowMs: number, out: SigmaAlert[]) => {
    // Rules specification "Level": informational rules enrich, they do not alert.
    if (draft.source.level === 'informational') return;
    const g = grouper.offer(draft, nowMs);
    if (g) out.push(toAlert(g, 'new'));
  };
  const groupOf = (plan: CorrelationPlan, ref: number, event: Event) => {
    const g = getters.get(plan)![ref]!;
    const group: Record<string, string | null> = {};
    const values: Array<string | null> = [];
    plan.rule.groupBy.forEach((f, i) => {
      const v = stringsOf(safe(g.group[i]!, event))[0] ?? null;
      group[f] = v;
      values.push(v);
    });
    const fv = g.field ? safe(g.field, event) : undefined;
    return { key: JSON.stringify(values), group, field: Array.isArray(fv) ? fv[0] : fv };
  };
  const onHit = (
    plan: CorrelationPlan,
    hit: CorrelationHit,
    nowMs: number,
    out: SigmaAlert[],
    depth: number,
  ) => {
    stats.correlationHits++;
    if (!silent.has(plan.key)) {
      const field = plan.rule.condition?.field;
      // value_percentile: each rare value is its own finding.
      const rare = hit.rareValue !== undefined && field !== undefined;
      const base = hit.groupKey === '[]' ? entityOf(hit.event).key : hit.groupKey;
      const entity = {
        ...entityOf(hit.event),
        key: rare ? `${base}|${hit.rareValue}` : base,
        group: rare ? { ...hit.group, [field]: hit.rareValue! } : hit.group,
      };
      raise(
        {
          ruleKey: plan.key,
          entityKey: entity.key,
          eventIds: hit.eventIds,
          source: {
            key: plan.key,
            title: plan.rule.title,
            name: plan.rule.name,
            type: plan.rule.type,
            level: plan.level,
            tags: plan.tags,
          },
          entity,
          correlation: { value: hit.value, timespan_ms: plan.rule.timespanMs },
        },
        nowMs,
        out,
      );
    }
    feed(plan.key, hit.event, nowMs, out, depth + 1); // chained correlations
  };
  const feed = (key: string, event: Event, nowMs: number, out: SigmaAlert[], depth: number) => {
    const refs = byRef.get(key);
    if (refs) feedRefs(refs, event, nowMs, out, depth);
  };
  /** `refs` in laterFirst order. */
  const feedRefs = (refs: readonly Ref[], event: Event, nowMs: number, out: SigmaAlert[], depth: number) => {
    if (depth > plans.length) return;
    for (let i = 0; i < refs.length; i++) {
      const { plan, ref } = refs[i]!;
      const { key: gk, group, field } = groupOf(plan, ref, event);
      // The group keeps of the event only what its alert and the correlations it feeds read.
      const hit = plan.state.add(ref, gk, group, nowMs, keepOf(event, kept.get(plan)!), field);
      if (hit) onHit(plan, hit, nowMs, out, depth);
    }
  };
  const advanceInto = (nowMs: number, out: SigmaAlert[]) => {
    clock = Math.max(clock, nowMs);
    for (let p = 0; p < plans.length; p++) {
      const plan = plans[p]!;
      const hits = plan.state.advance(clock);
      for (let i = 0; i < hits.length; i++) onHit(plan, hits[i]!, clock, out, 0);
    }
    const closed = grouper.advance(clock);
    for (let i = 0; i < closed.length; i++) out.push(toAlert(closed[i]!, 'update'));
  };
  const advance = (nowMs: number): SigmaAlert[] => {
    const out: SigmaAlert[] = [];
    if (Number.isFinite(nowMs)) advanceInto(nowMs, out);
    return out;
  };
  const refs: Ref[] = []; // per event, reused: process is synchronous and not re-entered

  return {
    ruleSet,
    errors,
    correlations: plans.map((p) => p.rule),
    process(event, nowMs) {
      const out: SigmaAlert[] = [];
      if (!Number.isFinite(nowMs)) return out;
      advanceInto(nowMs, out);
      stats.events++;
      ruleSet.matchInto(event, matched);
      if (refs.length > 0) refs.length = 0;
      for (let m = 0; m < matched.length; m++) {
        const rule = matched[m]!;
        stats.ruleMatches++;
        const source = sources.get(rule)!;
        // Rules specification "Level": informational rules enrich, they do not alert.
        if (!silent.has(rule.key) && source.level !== 'informational') {
          const key = entityKeyOf(event);
          // A repeat within the alert window only counts: no alert object is built for it.
          if (!grouper.repeat(rule.key, key, event.id, nowMs)) {
            const entity = entityOf(event);
            raise(
              { ruleKey: rule.key, entityKey: entity.key, eventIds: [event.id], source, entity },
              nowMs,
              out,
            );
          }
        }
        const r = byRef.get(rule.key);
        if (r) for (let i = 0; i < r.length; i++) refs.push(r[i]!);
      }
      if (refs.length > 0) {
        // Several matched rules: merge their correlation inputs into one later-first order.
        if (refs.length > 1) refs.sort(byLaterStep);
        feedRefs(refs, event, nowMs, out, 0);
      }
      return out;
    },
    advance,
    flush() {
      const out: SigmaAlert[] = [];
      for (const plan of plans) for (const hit of plan.state.flush()) onHit(plan, hit, clock, out, 0);
      for (const g of grouper.flush()) out.push(toAlert(g, 'update'));
      return out;
    },
    snapshot(maxGroups = 1000) {
      return {
        v: 1 as const,
        clock: Number.isFinite(clock) ? clock : null,
        correlations: plans
          .filter((p) => p.state.size > 0)
          .map((p) => ({
            key: p.key,
            fingerprint: fingerprints.get(p)!,
            groups: p.state.snapshot(maxGroups),
          })),
      };
    },
    restore(snapshot) {
      let restored = 0;
      let skipped = 0;
      const s = snapshot as Partial<SigmaEngineSnapshot> | null;
      if (!s || typeof s !== 'object' || s.v !== 1 || !Array.isArray(s.correlations))
        return { restored, skipped };
      const byFingerprint = new Map(plans.map((p) => [`${p.key}\u0000${fingerprints.get(p)}`, p]));
      for (const c of s.correlations) {
        const plan = c && byFingerprint.get(`${c.key}\u0000${c.fingerprint}`);
        const groups = Array.isArray(c?.groups) ? c.groups.length : 0;
        if (!plan) {
          skipped += groups;
          continue;
        }
        const n = plan.state.restore(c.groups);
        restored += n;
        skipped += groups - n;
      }
      if (typeof s.clock === 'number' && Number.isFinite(s.clock)) clock = Math.max(clock, s.clock);
      return { restored, skipped };
    },
    carryOver(previous) {
      return this.restore(previous.snapshot(Number.MAX_SAFE_INTEGER));
    },
    stats: () => ({
      ...stats,
      correlationGroups: plans.reduce((n, p) => n + p.state.size, 0),
      evictedCorrelationGroups: plans.reduce((n, p) => n + p.state.evicted, 0),
      alertGroups: grouper.size,
      evictedAlertGroups: grouper.evicted,
    }),
  };
}

function safe(get: (e: Event) => unknown, event: Event): unknown {
  try {
    return get(event);
  } catch {
    return undefined;
  }
}

export { maxLevel };
