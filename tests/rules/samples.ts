/**
 * The rule samples convention (rules/README.md "Samples"): every rule of rules/ics and
 * rules/central has a positive and a negative sample in tests/rules/samples/<set>/<file>.yaml,
 * keyed by rule id. A sample is a list of events in the `Event` schema, written compactly: each
 * event is merged over the file's and the rule's `defaults`, placed at `at` seconds from the
 * sample's start, optionally repeated (`repeat`, `every`; `{n}` in strings is the repetition's
 * index, a value that is exactly `{n}` is that number), or given as a raw syslog line (`syslog`;
 * `{ts}` is the event time) that goes through the gateway's own syslog codec (defaults do not
 * apply to it). This module turns sample files into validated events; the test
 * (samples.test.ts) runs them through the real engine.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { EVENT_SCHEMA_VERSION, type Event, parseEvent } from '../../protocols/event/schema.ts';
import { parseSyslog, syslogToEvent } from '../../protocols/syslog/index.ts';

/** Sample time zero: every sample starts here (the engine's clock is the events' own). */
export const SAMPLE_T0 = Date.parse('2026-11-21T10:00:00Z');

export interface SampleCase {
  name: string;
  events: Event[];
}

export interface RuleSamples {
  ruleId: string;
  /** The samples file, for messages. */
  file: string;
  positive: SampleCase[];
  negative: SampleCase[];
}

type Map = Record<string, unknown>;
const isMap = (v: unknown): v is Map => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep merge; `null` over a value removes it (an event omits absent values). */
function merge(base: Map, over: Map): Map {
  const out: Map = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = isMap(out[k]) && isMap(v) ? merge(out[k], v) : v;
  }
  return out;
}

/** Replaces `{n}` and `{ts}` in every string of a value. */
function substitute(v: unknown, vars: Record<string, string>): unknown {
  // A value that is exactly `{n}` is the index as a number (addresses, unit ids).
  if (v === '{n}') return Number(vars.n);
  if (typeof v === 'string') return v.replace(/\{(n|ts)\}/g, (_, k: string) => vars[k]!);
  if (Array.isArray(v)) return v.map((x) => substitute(x, vars));
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, vars)]));
  return v;
}

/** Expands one case's event templates into valid Events, or throws naming the bad one. */
export function expandEvents(templates: unknown, defaults: Map, where: string): Event[] {
  if (!Array.isArray(templates) || templates.length === 0)
    throw new Error(`${where}: events must be a non-empty list`);
  const bodies: Array<{ ms: number; body: Map; where: string }> = [];
  let at = -1;
  templates.forEach((template, i) => {
    if (!isMap(template)) throw new Error(`${where}[${i}]: an event is a map`);
    const { at: atSecs, repeat, every, syslog, ...rest } = template;
    const start = typeof atSecs === 'number' ? atSecs : at + 1;
    const count = typeof repeat === 'number' ? repeat : 1;
    const step = typeof every === 'number' ? every : 1;
    for (let n = 0; n < count; n += 1) {
      at = start + n * step;
      const ms = SAMPLE_T0 + Math.round(at * 1000);
      const vars = { n: String(n), ts: new Date(ms).toISOString() };
      const own = substitute(rest, vars) as Map;
      let body: Map;
      if (typeof syslog === 'string') {
        // A syslog line is the event as the gateway reads it: `defaults` do not apply.
        const line = substitute(syslog, vars) as string;
        const parsed = parseSyslog(line, { now: new Date(ms) });
        if (!parsed.ok) throw new Error(`${where}[${i}]: syslog line does not parse: ${line}`);
        body = merge(syslogToEvent(parsed.message, { received: new Date(ms), transport: 'udp' }), own);
      } else body = merge(defaults, own);
      bodies.push({ ms, body, where: `${where}[${i}]` });
    }
  });
  // Events reach the engine in time order, numbered as a gateway's queue numbers them.
  bodies.sort((a, b) => a.ms - b.ms);
  return bodies.map(({ ms, body, where: at }, i) => {
    const ts = new Date(ms).toISOString();
    const gateway = typeof body.gateway === 'string' ? body.gateway : 'gw-1';
    const seq = i + 1;
    const checked = parseEvent({
      v: EVENT_SCHEMA_VERSION,
      gateway,
      seq,
      id: `${gateway}:${seq}`,
      ts,
      received: ts,
      fields: {},
      tags: [],
      ...body,
    });
    if (!checked.ok) throw new Error(`${at}: not a valid Event: ${checked.error}`);
    return checked.event;
  });
}

function cases(list: unknown, defaults: Map, where: string): SampleCase[] {
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${where}: needs at least one case`);
  return list.map((c, i) => {
    if (!isMap(c) || typeof c.name !== 'string')
      throw new Error(`${where}[${i}]: a case is { name, events }`);
    return { name: c.name, events: expandEvents(c.events, defaults, `${where}[${i}] ${c.name}`) };
  });
}

/** Every `*.yaml`/`*.yml` under `dir`, recursively, sorted. */
export function sampleFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? sampleFiles(p) : /\.ya?ml$/.test(f) ? [p] : [];
    })
    .sort();
}

/** Reads one samples file: `{ defaults?, rules: { <rule id>: { defaults?, positive, negative } } }`. */
export function readSamples(file: string): RuleSamples[] {
  const doc: unknown = parse(readFileSync(file, 'utf8'), { uniqueKeys: true });
  if (!isMap(doc) || !isMap(doc.rules)) throw new Error(`${file}: expected a map with 'rules'`);
  const fileDefaults = isMap(doc.defaults) ? doc.defaults : {};
  return Object.entries(doc.rules).map(([ruleId, entry]) => {
    const where = `${path.basename(file)} ${ruleId}`;
    if (!isMap(entry)) throw new Error(`${where}: expected { positive, negative }`);
    const defaults = merge(fileDefaults, isMap(entry.defaults) ? entry.defaults : {});
    return {
      ruleId,
      file,
      positive: cases(entry.positive, defaults, `${where} positive`),
      negative: cases(entry.negative, defaults, `${where} negative`),
    };
  });
}
