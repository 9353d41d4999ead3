/**
 * Sigma benchmarks (issue 6), one core: events per second through (1) all 100 shared SigmaHQ rules
 * compiled together, every logsource mapped onto syslog so that every rule really runs, over
 * loghub's Linux_2k.log made into Events the way the gateway makes them (parseSyslog,
 * syslogToEvent); (2) the whole engine with 200 single-event rules and 20 correlations written
 * over our Event fields (support/sigma-corpus.ts) over a mixed syslog/Modbus/MQTT/CoAP stream;
 * (3) the gateway's syslog pipeline (decode → Event → engine) with those rules and without, and
 * the ratio of the two (the rules may cost at most 3× the empty pipeline). Each beside no rules.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Event } from '../../protocols/event/schema.ts';
import {
  compileRuleSet,
  createSigmaEngine,
  loadSigma,
  mergeLoadResults,
  type SigmaEngine,
  type SigmaRule,
} from '../../protocols/sigma/index.ts';
import { parseSyslog, syslogToEvent } from '../../protocols/syslog/index.ts';
import { SHARED_DATA } from '../support/env.ts';
import { benchRulesYaml, mixedEvents } from './support/sigma-corpus.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'sigma';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : f.endsWith('.yml') ? [p] : [];
  });
}

function loghubLines(): string[] {
  return readFileSync(path.join(SHARED_DATA, 'syslog', 'loghub', 'Linux_2k.log'), 'utf8')
    .split('\n')
    .filter(Boolean);
}

function loghubEvents(): Event[] {
  const now = new Date('2024-06-01T00:00:00Z');
  const lines = loghubLines();
  const out: Event[] = [];
  for (const line of lines) {
    const r = parseSyslog(line, { now });
    if (!r.ok) continue;
    const seq = out.length + 1;
    out.push({
      v: 1,
      id: `gw:${seq}`,
      gateway: 'gw',
      seq,
      ...syslogToEvent(r.message, { received: now, transport: 'file' }),
    } as Event);
  }
  return out;
}

/** One failure rule and a count per client id: the group key an attacker rotates. */
const ROTATING_RULES = `title: MQTT login refused
id: bench-mqtt-refused
name: mqtt_refused
logsource: {product: mqtt}
detection: {s: {action: mqtt.connect_refused}, condition: s}
---
title: Many refused logins for one client id
id: bench-mqtt-refused-count
correlation:
  type: event_count
  rules: [mqtt_refused]
  group-by: [fields.client_id]
  timespan: 10m
  condition: {gte: 5}
`;

/** Events per second of `fn` over `events`, best of `runs` passes after a warm-up. */
function rate<T>(events: readonly T[], runs: number, fn: (e: T, i: number) => void): number {
  let best = 0;
  for (let r = -2; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < events.length; i++) fn(events[i]!, i);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r >= 0) best = Math.max(best, events.length / s);
  }
  return best;
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const dir = path.join(SHARED_DATA, 'sigma');
  const loaded = mergeLoadResults(
    ['rules', 'rules-compliance']
      .flatMap((d) => yamlFiles(path.join(dir, d)))
      .map((f) => loadSigma(readFileSync(f, 'utf8'))),
  );
  const logsources: Record<string, ['syslog']> = {};
  for (const r of loaded.rules)
    for (const k of ['product', 'category', 'service'] as const)
      if (r.logsource[k]) logsources[`${k}:${r.logsource[k]}`] = ['syslog'];
  const events = loghubEvents();
  const passes = quick ? 3 : 15;

  const set = compileRuleSet(loaded.rules, { logsources });
  const none = compileRuleSet([], {});
  const out: SigmaRule[] = [];
  const withRules = rate(events, passes, (e) => set.matchInto(e, out as never));
  const without = rate(events, passes, (e) => none.matchInto(e, out as never));

  // 200 rules and 20 correlations written over our Event fields (support/sigma-corpus.ts),
  // through the whole engine (alerts, grouping, windows), over a mixed syslog/Modbus/MQTT/CoAP
  // stream, beside the same events through an engine with no rules.
  const bench = loadSigma(benchRulesYaml());
  if (bench.rules.length !== 200 || bench.correlations.length !== 20 || bench.errors.length > 0)
    throw new Error(
      `bench rules: ${bench.rules.length} rules, ${bench.correlations.length} correlations, errors: ${bench.errors.map((e) => e.message).join('; ')}`,
    );
  const mixed = mixedEvents();
  const engine = createSigmaEngine(bench);
  const empty = createSigmaEngine({ rules: [] });
  const t0 = Date.parse('2024-06-01T00:00:00Z');
  let clock = t0;
  const engineRate = rate(mixed, passes, (e) => engine.process(e, (clock += 10)));
  clock = t0;
  const emptyRate = rate(mixed, passes, (e) => empty.process(e, (clock += 10)));

  // What the rules cost the gateway's pipeline: syslog text decoded into an Event, then the
  // engine with the 200 + 20 rules, against the same pipeline with no rules (issue 6: ≤ 3×).
  const now = new Date('2024-06-01T00:00:00Z');
  const lines = loghubLines();
  const pipeline = (e: SigmaEngine) => {
    const seqs = { n: 0 };
    return (line: string) => {
      const r = parseSyslog(line, { now });
      if (!r.ok) return;
      seqs.n += 1;
      const event = {
        v: 1,
        id: `gw:${seqs.n}`,
        gateway: 'gw',
        seq: seqs.n,
        ...syslogToEvent(r.message, { received: now, transport: 'udp' }),
      } as Event;
      e.process(event, (clock += 10));
    };
  };
  const withPipeline = createSigmaEngine(bench);
  const pipelineRules = rate(lines, passes, pipeline(withPipeline));
  const pipelineEmpty = rate(lines, passes, pipeline(createSigmaEngine({ rules: [] })));
  const stats = engine.stats();

  // An attacker rotating MQTT client ids keeps a correlation at its group cap (10,000): every event
  // opens a group and evicts the oldest (protocols/event/evict.ts). Beside the same events over
  // 100 client ids, where no group is evicted: the two rates should be close.
  const rotating = loadSigma(ROTATING_RULES);
  const failures = (ids: number) =>
    Array.from({ length: quick ? 50_000 : 200_000 }, (_, i) => {
      const at = new Date(Date.parse('2024-06-01T00:00:00Z') + i).toISOString();
      return {
        v: 1,
        id: `gw:${i + 1}`,
        gateway: 'gw',
        seq: i + 1,
        ts: at,
        received: at,
        source: 'mqtt',
        kind: 'security',
        action: 'mqtt.connect_refused',
        severity: 4,
        message: 'bad credentials',
        src: { ip: '10.0.9.9' },
        fields: { client_id: `c-${i % ids}` },
        tags: [],
      } as Event;
    });
  const evicting = createSigmaEngine(rotating);
  clock = t0;
  const rotatingRate = rate(failures(Number.MAX_SAFE_INTEGER), passes, (e) =>
    evicting.process(e, (clock += 1)),
  );
  const steady = createSigmaEngine(rotating);
  clock = t0;
  const steadyRate = rate(failures(100), passes, (e) => steady.process(e, (clock += 1)));
  const evicted = evicting.stats().evictedCorrelationGroups;
  return [
    {
      name: `${set.rules.length} SigmaHQ rules compiled together, loghub events`,
      value: withRules,
      unit: 'events/s',
      peer: { name: 'no rules', value: without },
      target: { value: 100_000, better: 'higher', issue: 6 },
      note: `${events.length} events, best of ${passes} passes, ${set.errors.length} refused`,
    },
    {
      name: 'engine: 200 rules + 20 correlations over Event fields, alerts and grouping, mixed syslog/Modbus/MQTT/CoAP events',
      value: engineRate,
      unit: 'events/s',
      peer: { name: 'engine with no rules', value: emptyRate },
      target: { value: 100_000, better: 'higher', issue: 6 },
      note: `${mixed.length} events, best of ${passes} passes; alerts raised: ${stats.alertsNew}`,
      chart: {
        id: 'detection-rate',
        title: 'Detection engine, one core (events/s)',
        series: '200 rules + 20 correlations',
      },
    },
    {
      name: 'pipeline (syslog decode → Event → engine) with 200 rules + 20 correlations',
      value: pipelineRules,
      unit: 'events/s',
      peer: { name: 'same pipeline, no rules', value: pipelineEmpty },
      target: { value: 100_000, better: 'higher', issue: 6 },
      chart: {
        id: 'detection-rate',
        title: 'Detection engine, one core (events/s)',
        series: 'decode + 200 rules + 20 correlations',
      },
    },
    {
      name: 'correlation at its 10,000-group cap: every event a new MQTT client id, the oldest group evicted',
      value: rotatingRate,
      unit: 'events/s',
      peer: { name: 'same events over 100 client ids (no eviction)', value: steadyRate },
      note: `${evicted} groups evicted`,
    },
    {
      name: 'cost of the rules: time per event of the pipeline with rules ÷ without',
      value: pipelineEmpty / pipelineRules,
      unit: '×',
      target: { value: 3, better: 'lower', issue: 6 },
    },
  ];
}
