/**
 * Config of telemetry rules, shared by the MQTT broker, the MQTT client collector and the CoAP
 * server: which topics (or resource paths) carry readings, how their payload is read, and how much
 * of a chatty sensor reaches the link (every message, one sample per interval, or one aggregate).
 */
import { z } from 'zod';

export const telemetryRuleSchema = z.strictObject({
  match: z
    .string()
    .min(1)
    .max(1024)
    .describe('MQTT topic filter (`plant/+/temperature`, `sensors/#`) or CoAP path (`/readings/#`).'),
  payload: z
    .enum(['auto', 'json', 'number', 'text', 'binary'])
    .default('auto')
    .describe('How to read the payload: auto tries JSON, then a number, then text.'),
  mode: z
    .enum(['every', 'sample', 'aggregate'])
    .default('every')
    .describe(
      'every: one event per message; sample: the first message per device and topic in each interval; aggregate: count/min/max/avg/last per numeric field per interval. Applied by the pipeline stage <source>_telemetry, after detection has seen every message.',
    ),
  interval_secs: z.number().positive().max(86_400).default(60).describe('Sampling or aggregation interval.'),
});

export type TelemetryRule = z.output<typeof telemetryRuleSchema>;

export const telemetryRulesSchema = z
  .array(telemetryRuleSchema)
  .max(256)
  .default([])
  .describe('Topics or paths whose messages become telemetry events; first match wins.');
