/**
 * Telemetry from sensor messages: each message is matched against the source's telemetry rules
 * (first match wins) and its payload parsed into fields. Every matched message becomes an event:
 * the rules' `mode: sample | aggregate` is applied by the pipeline's `<source>_telemetry` stage
 * (gateway/pipeline/stages/telemetry.ts), after inventory, baselines and detection have seen each
 * reading.
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
  | { kind: 'event'; rule: TelemetryRule; parsed: ParsedPayload; fields: Record<string, unknown> };

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
) {
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

    accept(input: TelemetryInput): TelemetryOutcome {
      const rule = rules.length > 0 ? ruleFor(input.topic) : null;
      if (!rule) return { kind: 'none' };
      const parsed = parsePayload(input.payload, rule.payload);
      return { kind: 'event', rule, parsed, fields: payloadFields(parsed) };
    },
  };
}

export type TelemetrySampler = ReturnType<typeof createTelemetrySampler>;
