/**
 * What an alert says about a rule: its severity on the syslog scale of `Event.severity`, and the
 * MITRE ATT&CK technique ids in its tags. Sigma's tags appendix writes techniques as
 * `attack.t<id>` (`attack.t1110`, `attack.t1562.001`); ATT&CK for ICS techniques use the same
 * form with their T08xx ids (`attack.t0855`, Unauthorized Command Message), so one rule covers both
 * matrices. Tactic tags (`attack.impair-process-control`) are returned separately.
 */
import type { SigmaLevel } from './types.ts';

/** Sigma level → syslog severity (RFC 5424 §6.2.1): the more critical, the lower the number. */
export const LEVEL_SEVERITY: Readonly<Record<SigmaLevel, number>> = {
  critical: 2,
  high: 3,
  medium: 4,
  low: 5,
  informational: 6,
};

const TECHNIQUE = /^attack\.(t\d{4}(?:\.\d{3})?)$/i;
const OTHER_ATTACK = /^attack\.(g|s|m|ds|c)\d{4}$/i;

/** `attack.t0855` → `T0855`; `attack.t1562.001` → `T1562.001`. Deduplicated, in tag order. */
export function techniquesOf(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const tag of tags) {
    const m = TECHNIQUE.exec(tag);
    if (m) {
      const id = m[1]!.toUpperCase();
      if (!out.includes(id)) out.push(id);
    }
  }
  return out;
}

/** `attack.<tactic-name>` tags (not techniques, groups, software, mitigations, data sources). */
export function tacticsOf(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const tag of tags) {
    if (!tag.toLowerCase().startsWith('attack.') || TECHNIQUE.test(tag) || OTHER_ATTACK.test(tag)) continue;
    const name = tag.slice('attack.'.length).toLowerCase();
    if (/^[a-z][a-z-]+$/.test(name) && !out.includes(name)) out.push(name);
  }
  return out;
}

/** The more severe of two levels (for correlations without their own level). */
export function maxLevel(a: SigmaLevel | undefined, b: SigmaLevel | undefined): SigmaLevel | undefined {
  if (!a) return b;
  if (!b) return a;
  return LEVEL_SEVERITY[a] <= LEVEL_SEVERITY[b] ? a : b;
}
