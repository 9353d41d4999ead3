/**
 * Candidate selection for a compiled rule set, so that an event meets only the rules that can
 * match it (issue 6's throughput target: 200 rules on one core). Each compiled detection carries a
 * `Need`: fields it cannot match without, each with the lower-cased values one of which the field
 * must equal (`action: mqtt.subscribe` → `action ∈ {mqtt.subscribe}`). The need is derived from the
 * same compiled items, conservatively (rules specification "Condition": `and` keeps every need of
 * its parts, `or` and `1 of` only what all alternatives share, `not` none), so a rule left out for
 * an event could not have matched it. Per event source the rules are then bucketed by the field
 * most of them need; per event, one lower-cased read of that field (shared with the rules' own
 * tests through the field cache) and a Map lookup give the candidates. Results keep rule order.
 */
import type { FieldTable } from './field-access.ts';

/**
 * What a test requires: for each slot, the lower-cased values one of which the slot's (lower-cased)
 * text must equal for the test to pass. Each entry is necessary on its own; empty: nothing known.
 */
export type Need = ReadonlyMap<number, ReadonlySet<string>>;

export const NO_NEED: Need = new Map();

/** Both must hold: every entry of either is necessary (on a shared slot, the smaller set is kept). */
export function needAnd(a: Need, b: Need): Need {
  if (a.size === 0) return b;
  if (b.size === 0) return a;
  const out = new Map(a);
  for (const [slot, values] of b) {
    const mine = out.get(slot);
    // Not the intersection: a multi-valued field may satisfy each side with a different element.
    if (!mine || values.size < mine.size) out.set(slot, values);
  }
  return out;
}

/** Either may hold: only slots both require stay, with the values of both. */
export function needOr(a: Need, b: Need): Need {
  if (a.size === 0 || b.size === 0) return NO_NEED;
  const out = new Map<number, ReadonlySet<string>>();
  for (const [slot, values] of a) {
    const theirs = b.get(slot);
    if (theirs) out.set(slot, new Set([...values, ...theirs]));
  }
  return out;
}

export const needAll = (needs: readonly Need[]): Need => needs.reduce(needAnd, NO_NEED);
export const needAny = (needs: readonly Need[]): Need =>
  needs.length === 0 ? NO_NEED : needs.reduce(needOr);

interface Level {
  slot: number;
  byValue: Map<string, number[]>;
}

/** The rules of one event source: those always tried, then buckets by a needed field's value. */
interface SourcePlan {
  always: number[];
  levels: Level[];
}

/** Buckets per source; a rule lands in the first level whose slot it needs, else in `always`. */
const MAX_LEVELS = 4;

function planSource(members: readonly number[], needs: readonly Need[]): SourcePlan {
  let rest = [...members];
  const levels: Level[] = [];
  while (rest.length > 0 && levels.length < MAX_LEVELS) {
    // The slot the most remaining rules need (ties: the lowest slot, for a stable plan).
    const counts = new Map<number, number>();
    for (const r of rest) for (const slot of needs[r]!.keys()) counts.set(slot, (counts.get(slot) ?? 0) + 1);
    let best = -1;
    let bestCount = 0;
    for (const [slot, n] of counts)
      if (n > bestCount || (n === bestCount && slot < best)) [best, bestCount] = [slot, n];
    if (best < 0) break;
    const byValue = new Map<string, number[]>();
    const next: number[] = [];
    for (const r of rest) {
      const values = needs[r]!.get(best);
      if (!values) {
        next.push(r);
        continue;
      }
      for (const v of values) {
        const list = byValue.get(v);
        if (list) list.push(r);
        else byValue.set(v, [r]);
      }
    }
    levels.push({ slot: best, byValue });
    rest = next;
  }
  return { always: rest, levels };
}

export interface RuleIndex {
  /**
   * Puts the candidate rules (indexes into the rule list) of the current event of `table` (after
   * `table.begin`) into `into` (cleared first), each once. Returns true when they are not in
   * ascending order (several buckets contributed), so that the caller sorts its hits.
   */
  candidates(source: string, into: number[]): boolean;
}

/**
 * Builds the index over rules given by their sources (null: every source) and needs. With
 * `enabled` false every rule of the source is a candidate: the plain evaluation, kept for tests.
 */
export function buildRuleIndex(
  table: FieldTable,
  rules: ReadonlyArray<{ sources: ReadonlySet<string> | null; need: Need }>,
  enabled = true,
): RuleIndex {
  const needs = rules.map((r) => (enabled ? r.need : NO_NEED));
  const named = new Set<string>();
  for (const r of rules) if (r.sources) for (const s of r.sources) named.add(s);
  const plan = (source: string | null) =>
    planSource(
      rules.flatMap((r, i) => (r.sources === null || (source !== null && r.sources.has(source)) ? [i] : [])),
      needs,
    );
  const bySource = new Map<string, SourcePlan>([...named].map((s) => [s, plan(s)]));
  const other = plan(null); // a source no logsource names: only rules that apply everywhere
  const stamp = new Int32Array(rules.length);
  let gen = 0;
  return {
    candidates(source, into) {
      if (into.length > 0) into.length = 0;
      const p = bySource.get(source) ?? other;
      const always = p.always;
      for (let i = 0; i < always.length; i++) into.push(always[i]!);
      const levels = p.levels;
      if (levels.length === 0) return false;
      gen = (gen + 1) | 0 || 1;
      let lists = always.length > 0 ? 1 : 0;
      for (let l = 0; l < levels.length; l++) {
        const level = levels[l]!;
        const lows = table.lowers(level.slot);
        for (let k = 0; k < lows.length; k++) {
          const list = level.byValue.get(lows[k]!);
          if (!list) continue;
          lists++;
          for (let i = 0; i < list.length; i++) {
            const r = list[i]!;
            if (stamp[r] === gen) continue; // a multi-valued field can name one rule twice
            stamp[r] = gen;
            into.push(r);
          }
        }
      }
      return lists > 1;
    },
  };
}
