/**
 * `telemetry`: the sampling and aggregation that the MQTT and CoAP sources' `telemetry:` rules ask
 * for (`mode: sample | aggregate`), as a pipeline stage, so that inventory, baselines, detection
 * and the device dashboard see every reading first. Built by build.ts for each such source (named
 * `<source>_telemetry`, placed right after the observing stages); it takes the source's
 * `<protocol>.telemetry` events (`fields.listener` or `fields.collector` names the source), finds
 * the first rule whose filter matches the topic or path, and then keeps every message (`every`),
 * the first per device and topic in each interval (`sample`), or folds them into one
 * `<protocol>.telemetry_aggregate` per device and topic per interval with count/min/max/avg/last
 * per numeric value (`aggregate`; fields in protocols/event/SPEC.md, unchanged from when the
 * sources did this themselves).
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EvictionCursor } from '../../../protocols/event/evict.ts';
import type { TelemetryRule } from '../../sources/telemetry/config.ts';
import type { Stage, StageContext } from '../stage.ts';
import { addStat, MAX_WINDOWS, type Stat, statsObject } from './aggregate.ts';

interface Series {
  rule: TelemetryRule;
  first: PendingEvent;
  topic: string;
  sinceMs: number;
  messages: number;
  stats: Map<string, Stat>;
}

export function createTelemetryStage(options: {
  name: string;
  /** The source component whose events this stage takes. */
  source: string;
  protocol: 'mqtt' | 'coap';
  rules: readonly TelemetryRule[];
  matches: (pattern: string, topic: string) => boolean;
}): Stage {
  const action = `${options.protocol}.telemetry`;
  const ruleCache = new Map<string, TelemetryRule | null>();
  const series = new Map<string, Series>();
  const oldest = new EvictionCursor(series);
  const ruleFor = (topic: string): TelemetryRule | null => {
    let rule = ruleCache.get(topic);
    if (rule === undefined) {
      rule = options.rules.find((r) => options.matches(r.match, topic)) ?? null;
      if (ruleCache.size > 4096) ruleCache.clear();
      ruleCache.set(topic, rule);
    }
    return rule;
  };
  const aggregate = (s: Series, nowMs: number): PendingEvent => {
    const f = s.first.fields as Record<string, unknown>;
    const since = new Date(s.sinceMs).toISOString();
    const at = new Date(nowMs).toISOString();
    const mqtt = options.protocol === 'mqtt';
    const { src: _src, dst, ...rest } = s.first;
    void _src;
    return {
      ...rest,
      ...(!mqtt && dst && { dst }),
      ts: at,
      received: at,
      action: `${action}_aggregate`,
      kind: 'telemetry',
      severity: 6,
      message: mqtt
        ? `${s.topic}: ${s.messages} messages since ${since}`
        : `/${s.topic}: ${s.messages} readings since ${since}`,
      fields: {
        ...(f.listener !== undefined && { listener: f.listener }),
        ...(f.collector !== undefined && { collector: f.collector }),
        ...(f.broker !== undefined && { broker: f.broker }),
        ...(f.client_id !== undefined && { client_id: f.client_id }),
        ...(f.username !== undefined && { username: f.username }),
        ...(mqtt ? { topic: s.topic } : { path: `/${s.topic}` }),
        window_start: since,
        window_secs: s.rule.interval_secs,
        messages: s.messages,
        aggregates: statsObject(s.stats),
      },
      tags: [],
    };
  };
  return {
    name: options.name,
    type: 'telemetry',
    dropReason: 'sampled_or_aggregated',
    process(event, ctx) {
      if (event.action !== action) return event;
      const f = event.fields as Record<string, unknown>;
      if ((f.listener ?? f.collector) !== options.source) return event;
      const topic = options.protocol === 'mqtt' ? String(f.topic ?? '') : String(f.path ?? '').slice(1);
      const rule = ruleFor(topic);
      if (!rule || rule.mode === 'every') return event;
      const key = `${event.device?.id ?? ''}\u0000${topic}`;
      let s = series.get(key);
      if (s && ctx.nowMs - s.sinceMs >= rule.interval_secs * 1000) {
        series.delete(key);
        if (s.rule.mode === 'aggregate') ctx.emit(aggregate(s, ctx.nowMs));
        s = undefined;
      }
      if (s) {
        s.messages++;
        if (rule.mode === 'sample') return null;
      } else {
        if (series.size >= MAX_WINDOWS) {
          const [, early] = oldest.evict() ?? [];
          if (early?.rule.mode === 'aggregate') ctx.emit(aggregate(early, ctx.nowMs));
        }
        s = { rule, first: event, topic, sinceMs: ctx.nowMs, messages: 1, stats: new Map() };
        series.set(key, s);
        if (rule.mode === 'sample') return event;
      }
      const values = f.values as Record<string, unknown> | undefined;
      if (values && typeof values === 'object')
        for (const [k, v] of Object.entries(values))
          if (typeof v === 'number' && Number.isFinite(v)) addStat(s.stats, k, v);
      return null;
    },
    flush(ctx: StageContext, final: boolean) {
      for (const [key, s] of series) {
        if (!final && ctx.nowMs - s.sinceMs < s.rule.interval_secs * 1000) continue;
        series.delete(key);
        if (s.rule.mode === 'aggregate') ctx.emit(aggregate(s, ctx.nowMs));
      }
    },
  };
}
