/**
 * Telemetry from sensor messages, with the volume under control: each message is matched against
 * the rules (first match wins), its payload parsed into fields, and then either emitted (mode
 * `every`), kept only when it is the first for its device and topic in the interval (`sample`), or
 * folded into per-field count/min/max/sum/last that `flush` turns into one event per interval
 * (`aggregate`). The caller owns the clock and the timer; state is bounded by `maxSeries`.
 */
import { type ParsedPayload, parsePayload } from '../../../protocols/telemetry/payload.ts';
import type { TelemetryRule } from './config.ts';

export interface TelemetryInput {
  /** MQTT topic or CoAP path. */
  topic: string;
  /** Device key: MQTT client id, CoAP endpoint. */
  device: string;
  payload: Uint8Array;
}

export type TelemetryOutcome =
  | { kind: 'none' }
  | { kind: 'event'; rule: TelemetryRule; parsed: ParsedPayload; fields: Record<string, unknown> }
  | { kind: 'sampled' }
  | { kind: 'aggregated' };

export interface Aggregate {
  rule: TelemetryRule;
  topic: string;
  device: string;
  since: Date;
  messages: number;
  fields: Record<string, { count: number; min: number; max: number; avg: number; last: number }>;
}

interface Series {
  rule: TelemetryRule;
  topic: string;
  device: string;
  since: number;
  messages: number;
  stats: Map<string, { count: number; min: number; max: number; sum: number; last: number }>;
}

export function payloadFields(parsed: ParsedPayload): Record<string, unknown> {
  const fields: Record<string, unknown> = { payload_format: parsed.format };
  if (Object.keys(parsed.values).length > 0) fields.values = parsed.values;
  if (parsed.text !== undefined) fields.payload_text = parsed.text;
  if (parsed.truncated) fields.payload_truncated = true;
  return fields;
}

export function createTelemetrySampler(
  rules: TelemetryRule[],
  matches: (pattern: string, topic: string) => boolean,
  { maxSeries = 10_000 } = {},
) {
  const series = new Map<string, Series>();
  const ruleCache = new Map<string, TelemetryRule | null>();

  const ruleFor = (topic: string): TelemetryRule | null => {
    let rule = ruleCache.get(topic);
    if (rule === undefined) {
      rule = rules.find((r) => matches(r.match, topic)) ?? null;
      if (ruleCache.size > 4096) ruleCache.clear();
      ruleCache.set(topic, rule);
    }
    return rule;
  };

  return {
    /** True when some rule takes this topic (cheap: cached per topic). */
    wants: (topic: string) => rules.length > 0 && ruleFor(topic) !== null,

    accept(input: TelemetryInput, now: Date): TelemetryOutcome {
      const rule = rules.length > 0 ? ruleFor(input.topic) : null;
      if (!rule) return { kind: 'none' };
      const key = `${input.device}\u0000${input.topic}`;
      const t = now.getTime();
      const current = series.get(key);
      if (rule.mode === 'sample' && current && t - current.since < rule.interval_secs * 1000) {
        current.messages++;
        return { kind: 'sampled' };
      }
      const parsed = parsePayload(input.payload, rule.payload);
      if (rule.mode !== 'aggregate') {
        if (rule.mode === 'sample') {
          if (!current && series.size >= maxSeries) return { kind: 'sampled' };
          series.set(key, {
            rule,
            topic: input.topic,
            device: input.device,
            since: t,
            messages: 1,
            stats: new Map(),
          });
        }
        return { kind: 'event', rule, parsed, fields: payloadFields(parsed) };
      }
      let s = current;
      if (!s) {
        if (series.size >= maxSeries) return { kind: 'aggregated' };
        s = { rule, topic: input.topic, device: input.device, since: t, messages: 0, stats: new Map() };
        series.set(key, s);
      }
      s.messages++;
      for (const [name, value] of Object.entries(parsed.values)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        const st = s.stats.get(name);
        if (!st) s.stats.set(name, { count: 1, min: value, max: value, sum: value, last: value });
        else {
          st.count++;
          st.min = Math.min(st.min, value);
          st.max = Math.max(st.max, value);
          st.sum += value;
          st.last = value;
        }
      }
      return { kind: 'aggregated' };
    },

    /** Aggregates whose interval has passed (all of them with `all`); sample windows that ended are forgotten. */
    flush(now: Date, all = false): Aggregate[] {
      const out: Aggregate[] = [];
      const t = now.getTime();
      for (const [key, s] of series) {
        if (!all && t - s.since < s.rule.interval_secs * 1000) continue;
        series.delete(key);
        if (s.rule.mode !== 'aggregate' || s.messages === 0) continue;
        const fields: Aggregate['fields'] = {};
        for (const [name, st] of s.stats) {
          fields[name] = { count: st.count, min: st.min, max: st.max, avg: st.sum / st.count, last: st.last };
        }
        out.push({
          rule: s.rule,
          topic: s.topic,
          device: s.device,
          since: new Date(s.since),
          messages: s.messages,
          fields,
        });
      }
      return out;
    },
  };
}

export type TelemetrySampler = ReturnType<typeof createTelemetrySampler>;
