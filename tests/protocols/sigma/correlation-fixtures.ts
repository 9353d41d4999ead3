/**
 * What the Sigma correlation tests share: the clock constants, a base rule per name, an engine
 * from rule texts (failing on any load error), a stream runner, the new correlation alerts of a
 * run, and an example file of the sigma-specification repository.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Event } from '../../../protocols/event/schema.ts';
import {
  createSigmaEngine,
  loadSigma,
  type SigmaAlert,
  type SigmaEngineOptions,
  type SigmaLoadResult,
} from '../../../protocols/sigma/index.ts';
import { sharedData } from '../../support/env.ts';
import { makeEvent } from './helpers.ts';

export const T0 = Date.parse('2024-06-01T00:00:00Z');
export const S = 1000;
export const MIN = 60 * S;

/** A base rule named `name` (also its id) matching events whose fields.kind is `name`. */
export const base = (name: string, extra = '') => `title: ${name}
id: ${name}
name: ${name}
logsource: {product: syslog}
detection:
    sel: {kind_of: ${name}}
    condition: sel
level: low
${extra}`;

export function engineFor(texts: string[], options: SigmaEngineOptions = {}) {
  const all: SigmaLoadResult = { rules: [], correlations: [], filters: [], errors: [] };
  for (const t of texts) {
    const r = loadSigma(t);
    all.rules.push(...r.rules);
    all.correlations.push(...r.correlations);
    all.errors.push(...r.errors);
  }
  assert.deepEqual(all.errors, []);
  return createSigmaEngine(all, options);
}

export const ev = (kindOf: string, fields: Record<string, unknown> = {}, over: Partial<Event> = {}) =>
  makeEvent({ fields: { kind_of: kindOf, ...fields }, ...over });

/** Feeds [time, event] pairs; returns the alerts, `new` and `update` alike. */
export function run(
  engine: ReturnType<typeof createSigmaEngine>,
  stream: Array<[number, Event]>,
  flush = false,
): SigmaAlert[] {
  const out: SigmaAlert[] = [];
  for (const [t, e] of stream) out.push(...engine.process(e, t));
  if (flush) out.push(...engine.flush());
  return out;
}
export const corr = (alerts: SigmaAlert[]) =>
  alerts.filter((a) => a.rule.type !== 'detection' && a.kind === 'new');

export function specExample(t: Parameters<typeof sharedData>[0], name: string): string | undefined {
  const file = sharedData(t, 'sigma-spec', 'tests', 'schema', 'correlation', name);
  return file && readFileSync(file, 'utf8');
}
