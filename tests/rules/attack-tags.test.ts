/**
 * The ATT&CK for ICS tag convention of the shipped rule sets (rules/README.md "Tags"), checked over
 * rules/ics and rules/central alike: every technique tag (`attack.t0855`) names an ATT&CK for ICS
 * technique of ../shared/data/mitre/ics_attack_techniques.tsv, every tactic tag
 * (`attack.impair-process-control`) an ATT&CK for ICS tactic and one that a technique of the same
 * rule belongs to, tags are lower case, and every rule that raises alerts names at least one
 * technique — so every alert carries one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { loadRuleDirectories } from '../../protocols/sigma/rules-dir.ts';
import { REPO_ROOT, sharedData } from '../support/env.ts';

const SETS = ['ics', 'central', 'windows'];

function ruleTags() {
  const out: Array<{ where: string; level: string; tags: string[] }> = [];
  for (const set of SETS) {
    const loaded = loadRuleDirectories({ rulesDirs: [path.join(REPO_ROOT, 'rules', set)] });
    assert.deepEqual(loaded.errors, [], `rules/${set} loads`);
    for (const r of loaded.engine.ruleSet.rules)
      out.push({
        where: `rules/${set}: ${r.rule.title}`,
        level: r.rule.level ?? 'medium',
        tags: r.rule.tags,
      });
    for (const c of loaded.engine.correlations)
      out.push({ where: `rules/${set}: ${c.title}`, level: c.level ?? 'medium', tags: c.tags });
  }
  return out;
}

it('every ATT&CK tag in rules/ics and rules/central is an ATT&CK for ICS technique or tactic', (t) => {
  const tsv = sharedData(t, 'mitre', 'ics_attack_techniques.tsv');
  if (!tsv) return;
  const [header, ...rows] = readFileSync(tsv, 'utf8').trimEnd().split('\n');
  assert.deepEqual(header?.split('\t').slice(0, 3), ['technique_id', 'name', 'tactics']);
  const tacticsOf = new Map(
    rows.map((r) => r.split('\t')).map(([id, , tactics]) => [id!, tactics!.split(',')]),
  );
  const allTactics = new Set([...tacticsOf.values()].flat());
  assert.ok(tacticsOf.size >= 80 && allTactics.has('impair-process-control'));

  const problems: string[] = [];
  let techniques = 0;
  for (const { where, level, tags } of ruleTags()) {
    const attack = tags.filter((tag) => tag.toLowerCase().startsWith('attack.'));
    const ids = attack.filter((tag) => /^attack\.t\d+/i.test(tag)).map((tag) => tag.slice(7).toUpperCase());
    const tactics = attack.filter((tag) => !/^attack\.t\d+/i.test(tag)).map((tag) => tag.slice(7));
    techniques += ids.length;
    for (const tag of attack)
      if (tag !== tag.toLowerCase()) problems.push(`${where}: ${tag} is not lower case`);
    for (const id of ids)
      if (!tacticsOf.has(id)) problems.push(`${where}: ${id} is not an ATT&CK for ICS technique`);
    for (const tactic of tactics) {
      if (!allTactics.has(tactic)) problems.push(`${where}: ${tactic} is not an ATT&CK for ICS tactic`);
      else if (!ids.some((id) => tacticsOf.get(id)?.includes(tactic)))
        problems.push(`${where}: none of its techniques (${ids.join(', ')}) belongs to ${tactic}`);
    }
    if (level !== 'informational' && ids.length === 0) problems.push(`${where}: alerts without a technique`);
  }
  assert.deepEqual(problems, []);
  assert.ok(techniques >= 40, `${techniques} technique tags`);
});
