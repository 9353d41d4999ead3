/**
 * Every rule of the shipped rule sets (rules/ics at the edge, rules/central across gateways) has a
 * positive and a negative sample (tests/rules/samples/, convention in rules/README.md), and the
 * real engine agrees with them: a detection rule matches every event of a positive sample and no
 * event of a negative one, and raises its alert when it is one that alerts; a correlation alerts on
 * its positive event sequence (by the events' own clock, windows closed at the end as a replay
 * does) and stays silent on the negative one. A rule without samples, or samples for a rule that
 * does not exist, fail the suite — so new rule files are covered as soon as they land.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { SigmaAlert, SigmaEngine } from '../../protocols/sigma/index.ts';
import { buildRuleSet, readRuleDirectories } from '../../protocols/sigma/rules-dir.ts';
import { REPO_ROOT } from '../support/env.ts';
import { readSamples, type RuleSamples, type SampleCase, sampleFiles } from './samples.ts';

const SAMPLES = path.join(REPO_ROOT, 'tests', 'rules', 'samples');
const SETS = ['ics', 'central', 'windows'] as const;

interface RuleInfo {
  id: string;
  title: string;
  set: (typeof SETS)[number];
  kind: 'detection' | 'correlation';
  /** Raises alerts of its own: not informational, and not only an input of a correlation. */
  alerts: boolean;
}

function loadSet(set: (typeof SETS)[number]) {
  const read = readRuleDirectories([path.join(REPO_ROOT, 'rules', set)]);
  assert.deepEqual(read.errors, []);
  const build = () => {
    const built = buildRuleSet(read.documents, {}, read.files);
    assert.deepEqual(built.errors, [], `rules/${set} loads without a refused rule`);
    return built.engine;
  };
  const engine = build();
  const silent = new Set<string>();
  for (const c of engine.correlations) if (!c.generate) for (const r of c.rules) silent.add(r);
  const rules: RuleInfo[] = [
    ...engine.ruleSet.rules.map((r) => ({
      id: r.rule.id ?? '',
      title: r.rule.title,
      set,
      kind: 'detection' as const,
      alerts:
        (r.rule.level ?? 'medium') !== 'informational' &&
        !silent.has(r.rule.id ?? '') &&
        !(r.rule.name && silent.has(r.rule.name)),
    })),
    ...engine.correlations.map((c) => ({
      id: c.id ?? '',
      title: c.title,
      set,
      kind: 'correlation' as const,
      alerts: true,
    })),
  ];
  return { rules, build, files: read.files };
}

const sets = SETS.map(loadSet);
const rules = sets.flatMap((s) => s.rules);
const samples = sampleFiles(SAMPLES).flatMap(readSamples);
const byId = new Map<string, RuleSamples>();
for (const s of samples) {
  assert.ok(!byId.has(s.ruleId), `${s.ruleId} has samples in two files`);
  byId.set(s.ruleId, s);
}

/** Runs a case through a fresh engine by the events' own clock, then closes every window. */
function run(engine: SigmaEngine, c: SampleCase): SigmaAlert[] {
  const alerts: SigmaAlert[] = [];
  for (const e of c.events) alerts.push(...engine.process(e, Date.parse(e.ts)));
  alerts.push(...engine.flush());
  return alerts;
}

describe('rule samples', () => {
  it('the rule sets hold at least 30 rules, each with an id', () => {
    assert.ok(rules.length >= 30, `${rules.length} rules`);
    for (const r of rules) assert.match(r.id, /^[0-9a-f-]{36}$/, `${r.title} needs a UUID id`);
    assert.equal(new Set(rules.map((r) => r.id)).size, rules.length, 'rule ids are unique');
  });

  it('every rule in rules/ics and rules/central has a positive and a negative sample', () => {
    const missing = rules.filter((r) => !byId.has(r.id)).map((r) => `rules/${r.set}: ${r.id} ${r.title}`);
    assert.deepEqual(missing, [], 'rules without samples (add them under tests/rules/samples/)');
    const known = new Set(rules.map((r) => r.id));
    const stale = samples.filter((s) => !known.has(s.ruleId)).map((s) => `${s.file}: ${s.ruleId}`);
    assert.deepEqual(stale, [], 'samples for rules that do not exist');
  });

  for (const set of sets) {
    describe(`rules/${set.rules[0]?.set ?? '?'}`, () => {
      for (const rule of set.rules) {
        const s = byId.get(rule.id);
        if (!s) continue; // reported by the coverage test above
        it(`${rule.title}`, () => {
          for (const c of s.positive) {
            const engine = set.build();
            if (rule.kind === 'detection') {
              c.events.forEach((e, i) =>
                assert.ok(
                  engine.ruleSet.match(e).some((m) => m.key === rule.id),
                  `positive "${c.name}": event ${i + 1} (${e.action}) does not match`,
                ),
              );
            }
            if (rule.alerts) {
              const fired = run(engine, c).filter((a) => a.rule.id === rule.id);
              assert.ok(fired.length > 0, `positive "${c.name}": no alert`);
              assert.ok(
                fired.every((a) => a.event_ids.length > 0),
                `positive "${c.name}": the alert names its events`,
              );
            }
          }
          for (const c of s.negative) {
            const engine = set.build();
            if (rule.kind === 'detection') {
              c.events.forEach((e, i) =>
                assert.ok(
                  !engine.ruleSet.match(e).some((m) => m.key === rule.id),
                  `negative "${c.name}": event ${i + 1} (${e.action}) matches`,
                ),
              );
            }
            const fired = run(engine, c).filter((a) => a.rule.id === rule.id);
            assert.deepEqual(
              fired.map((a) => a.rule.title),
              [],
              `negative "${c.name}" raised an alert`,
            );
          }
        });
      }
    });
  }
});
