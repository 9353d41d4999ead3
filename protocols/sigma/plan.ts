/**
 * Resolves correlation rules against the loaded rules before anything runs (correlation rules
 * specification, "Related rules"): each reference by id or name becomes the key of a compiled rule
 * or of another correlation, chains are ordered so a correlation's inputs exist before it, and
 * cycles, unknown references and correlations over refused rules are refused, with the reason.
 * Also decides which rules only feed correlations (`generate: false`, the default) and so raise no
 * alert of their own.
 */
import { maxLevel } from './attack.ts';
import type { CompiledRule } from './compile.ts';
import { type CorrelationLimits, CorrelationState } from './correlation.ts';
import { ruleLabel, type SigmaCorrelationRule, type SigmaError, type SigmaLevel } from './types.ts';

export interface CorrelationPlan {
  rule: SigmaCorrelationRule;
  key: string;
  /** The canonical key of each referenced rule or correlation, in `correlation.rules` order. */
  refKeys: string[];
  /** The names an alias may use for each reference (its name, id and key). */
  refNames: string[][];
  state: CorrelationState;
  /** The correlation's level, else the most severe of what it references, else medium. */
  level: SigmaLevel;
  /** Its tags and those of what it references (so the alert carries their techniques). */
  tags: string[];
}

interface Target {
  key: string;
  names: string[];
  level?: SigmaLevel;
  tags: string[];
}

export function planCorrelations(
  rules: readonly CompiledRule[],
  correlations: readonly SigmaCorrelationRule[],
  limits: CorrelationLimits,
): { plans: CorrelationPlan[]; errors: SigmaError[]; silent: Set<string> } {
  const errors: SigmaError[] = [];
  const index = new Map<string, Target>();
  const add = (ref: string | undefined, t: Target) => {
    if (ref !== undefined && !index.has(ref)) index.set(ref, t);
  };
  for (const r of rules) {
    const t: Target = {
      key: r.key,
      names: [r.rule.name, r.rule.id, r.key].filter((x): x is string => !!x),
      tags: r.rule.tags,
    };
    if (r.rule.level) t.level = r.rule.level;
    add(r.key, t);
    add(r.rule.id, t);
    add(r.rule.name, t);
  }
  const refuse = (c: SigmaCorrelationRule, code: SigmaError['code'], why: string) =>
    errors.push({ code, rule: ruleLabel(c), path: 'correlation', message: `${ruleLabel(c)}: ${why}` });

  const plans: CorrelationPlan[] = [];
  const known = new Set(rules.map((r) => r.key));
  let pending = correlations.filter((c) => {
    const why = CorrelationState.refusal(c, limits);
    if (why) refuse(c, 'unsupported', why);
    if (
      !why &&
      (index.has(ruleLabel(c)) || correlations.filter((o) => ruleLabel(o) === ruleLabel(c)).length > 1)
    ) {
      refuse(c, 'invalid_correlation', `another rule or correlation already uses the key '${ruleLabel(c)}'`);
      return false;
    }
    return !why;
  });
  const allRefs = new Set(
    correlations.flatMap((c) => [c.id, c.name, ruleLabel(c)]).filter((x): x is string => !!x),
  );
  // Kahn-style: a correlation is planned once everything it references is planned.
  for (let progress = true; progress && pending.length > 0;) {
    progress = false;
    const next: SigmaCorrelationRule[] = [];
    for (const c of pending) {
      const targets = c.rules.map((ref) => index.get(ref));
      if (targets.some((t) => !t)) {
        next.push(c);
        continue;
      }
      const ts = targets as Target[];
      const key = ruleLabel(c);
      const tags = [...new Set([...c.tags, ...ts.flatMap((t) => t.tags)])];
      const level =
        c.level ?? ts.reduce<SigmaLevel | undefined>((l, t) => maxLevel(l, t.level), undefined) ?? 'medium';
      plans.push({
        rule: c,
        key,
        refKeys: ts.map((t) => t.key),
        refNames: ts.map((t) => t.names),
        state: new CorrelationState(c, limits),
        level,
        tags,
      });
      const t: Target = { key, names: [c.name, c.id, key].filter((x): x is string => !!x), tags, level };
      add(key, t);
      add(c.id, t);
      add(c.name, t);
      known.add(key);
      progress = true;
    }
    pending = next;
  }
  for (const c of pending) {
    const missing = c.rules.filter((ref) => !index.has(ref));
    const cyclic = missing.every((m) => allRefs.has(m));
    refuse(
      c,
      'unknown_rule_reference',
      cyclic
        ? `its references ${missing.join(', ')} form a cycle or were refused`
        : `it references ${missing.join(', ')}, which no loaded rule defines (by id or name)`,
    );
  }
  const referenced = new Map<string, boolean>();
  for (const p of plans)
    for (const k of p.refKeys) referenced.set(k, (referenced.get(k) ?? false) || p.rule.generate);
  const silent = new Set([...referenced].filter(([, generate]) => !generate).map(([k]) => k));
  return { plans, errors, silent };
}
