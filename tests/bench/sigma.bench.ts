/**
 * Sigma benchmarks, one core: events per second through (1) all 100 shared SigmaHQ rules compiled
 * together, every logsource mapped onto syslog so that every rule really runs, and (2) the whole
 * engine with 200 rules (the shared ones twice, under other ids) and 20 correlations, each beside
 * the same events through no rules. The events are loghub's Linux_2k.log lines made into Events
 * the way the gateway makes them (parseSyslog, syslogToEvent).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Event } from '../../protocols/event/schema.ts';
import {
  compileRuleSet,
  createSigmaEngine,
  loadSigma,
  mergeLoadResults,
  type SigmaCorrelationRule,
  type SigmaRule,
} from '../../protocols/sigma/index.ts';
import { parseSyslog, syslogToEvent } from '../../protocols/syslog/index.ts';
import { SHARED_DATA } from '../support/env.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'sigma';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : f.endsWith('.yml') ? [p] : [];
  });
}

function loghubEvents(): Event[] {
  const now = new Date('2024-06-01T00:00:00Z');
  const lines = readFileSync(path.join(SHARED_DATA, 'syslog', 'loghub', 'Linux_2k.log'), 'utf8').split('\n');
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

/** Events per second of `fn` over `events`, best of `runs` passes after a warm-up. */
function rate(events: Event[], runs: number, fn: (e: Event, i: number) => void): number {
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

  // 200 rules and 20 correlations through the whole engine (alerts, grouping, windows).
  const twice: SigmaRule[] = [
    ...loaded.rules,
    ...loaded.rules.map((r, i) => ({ ...r, id: `copy-${i}`, name: `copy_${i}` })),
  ];
  const correlations: SigmaCorrelationRule[] = Array.from({ length: 20 }, (_, i) => ({
    kind: 'correlation',
    title: `corr ${i}`,
    id: `corr-${i}`,
    references: [],
    tags: [],
    falsepositives: [],
    type: i % 2 === 0 ? 'event_count' : 'value_count',
    rules: [twice[i]!.id!, twice[i + 100]!.id!],
    groupBy: ['host'],
    timespan: '5m',
    timespanMs: 300_000,
    condition: i % 2 === 0 ? { gte: 10 } : { gte: 3, field: 'fields.program' },
    aliases: {},
    generate: true,
  }));
  const engine = createSigmaEngine({ rules: twice, correlations }, { logsources });
  const empty = createSigmaEngine({ rules: [] });
  const t0 = Date.parse('2024-06-01T00:00:00Z');
  let clock = t0;
  const engineRate = rate(events, passes, (e) => engine.process(e, (clock += 10)));
  clock = t0;
  const emptyRate = rate(events, passes, (e) => empty.process(e, (clock += 10)));
  return [
    {
      name: `${set.rules.length} SigmaHQ rules compiled together, loghub events`,
      value: withRules,
      unit: 'events/s',
      peer: { name: 'no rules', value: without },
      target: { value: 100_000, better: 'higher' },
      note: `${events.length} events, best of ${passes} passes, ${set.errors.length} refused`,
    },
    {
      name: `engine: ${twice.length} rules + ${engine.correlations.length} correlations, alerts and grouping`,
      value: engineRate,
      unit: 'events/s',
      peer: { name: 'engine with no rules', value: emptyRate },
      target: { value: 100_000, better: 'higher' },
      note: `${engine.errors.length} refused; alerts raised: ${engine.stats().alertsNew}`,
    },
  ];
}
