/**
 * Shared helpers for the Sigma tests: a complete `Event` from a few fields, a rule from YAML
 * text (failing the test with the loader's message when it does not load), and "does this
 * detection match this event" in one call.
 */
import assert from 'node:assert/strict';
import type { Event } from '../../../protocols/event/schema.ts';
import {
  compileRuleSet,
  loadSigma,
  type SigmaCompileOptions,
  type SigmaError,
  type SigmaRule,
} from '../../../protocols/sigma/index.ts';

let seq = 0;

/** A valid Event (syslog by default) with `over` merged in. */
export function makeEvent(over: Partial<Event> = {}): Event {
  seq++;
  return {
    v: 1,
    id: `gw1:${seq}`,
    gateway: 'gw1',
    seq,
    ts: '2024-06-01T12:00:00.000Z',
    received: '2024-06-01T12:00:00.000Z',
    source: 'syslog',
    kind: 'telemetry',
    action: 'syslog.message',
    severity: 6,
    message: '',
    fields: {},
    tags: [],
    ...over,
  };
}

export function loadOne(yaml: string): SigmaRule {
  const r = loadSigma(yaml);
  assert.deepEqual(r.errors, [], 'the rule should load');
  assert.equal(r.rules.length, 1);
  return r.rules[0]!;
}

/** A rule around a detection section (YAML, indented by 4). */
export function ruleYaml(detection: string, extra = ''): string {
  return `title: t\nid: r1\nlogsource:\n    product: syslog\ndetection:\n${detection}\n${extra}`;
}

/** Compiles `detection` (a map of identifiers + condition, as an object) and tests `event`. */
export function detects(
  detection: Record<string, unknown>,
  event: Partial<Event>,
  options: SigmaCompileOptions = {},
): boolean {
  const { condition = 'sel', ...ids } = detection;
  const rule: SigmaRule = {
    kind: 'rule',
    title: 't',
    id: 'r1',
    references: [],
    tags: [],
    falsepositives: [],
    logsource: {},
    detection: ids,
    condition: Array.isArray(condition) ? (condition as string[]) : [condition as string],
    fields: [],
    related: [],
    scope: [],
  };
  const set = compileRuleSet([rule], options);
  assert.deepEqual(set.errors, [], `should compile: ${JSON.stringify(detection)}`);
  return set.match(makeEvent(event)).length === 1;
}

/** The compile error of a detection (asserting there is one). */
export function compileError(
  detection: Record<string, unknown>,
  options: SigmaCompileOptions = {},
): SigmaError {
  const { condition = 'sel', ...ids } = detection;
  const rule: SigmaRule = {
    kind: 'rule',
    title: 't',
    id: 'r1',
    references: [],
    tags: [],
    falsepositives: [],
    logsource: {},
    detection: ids,
    condition: [condition as string],
    fields: [],
    related: [],
    scope: [],
  };
  const set = compileRuleSet([rule], options);
  assert.equal(set.rules.length, 0, `should be refused: ${JSON.stringify(detection)}`);
  assert.equal(set.errors.length, 1);
  return set.errors[0]!;
}
