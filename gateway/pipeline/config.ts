/**
 * The `pipeline:` key of gateway.yaml: what the gateway forwards (`forward`: all, security or
 * alerts only, for very thin links) and the ordered list of named stages every observation runs
 * through. Polymorphic entries carry `type:`. Checked beyond the shapes: names are unique, an
 * unknown type names the known ones, and the order is possible — normalise first; inventory,
 * baselines and detect once each and before any reduction (they see every observation);
 * pseudonymise after detect (rules see real values; what leaves the site does not).
 * Absent, the OT-aware default below applies.
 */
import { z } from 'zod';
import { fieldMatchSchema, sigmaMatchSchema } from './match.ts';
import { OBSERVING_STAGES, REDUCING_STAGES, STAGE_TYPES, type StageType } from './stage.ts';

const name = z
  .string()
  .regex(/^[a-z0-9_]+$/, 'stage names are snake_case')
  .max(64)
  .optional()
  .describe('The name counts are reported under (default: the type); unique in the pipeline.');
const match = fieldMatchSchema.optional();
const sigma = sigmaMatchSchema.optional();
const paths = (what: string) => z.array(z.string().min(1).max(256)).max(16).describe(what);
const interval = (fallback: number) =>
  z.number().positive().max(86_400).default(fallback).describe('Window length in seconds (event clock).');

const simple = (type: 'normalise' | 'inventory' | 'baselines' | 'detect', what: string) =>
  z.strictObject({ type: z.literal(type).describe(what), name });

export const stageSchema = z.discriminatedUnion('type', [
  simple('normalise', 'Checks times, bounds messages and tags (first, when present).'),
  simple('inventory', 'Notes every device (the asset inventory); new devices become events.'),
  simple(
    'baselines',
    'Learns each device (peers, actions, ranges, rates, Modbus roles); deviations become events.',
  ),
  simple('detect', 'Runs the Sigma rules; alerts go to the alert lane, with their evidence.'),
  z.strictObject({
    type: z.literal('filter').describe('Keeps or drops events by a field match or a Sigma detection.'),
    name,
    action: z
      .enum(['keep', 'drop'])
      .default('drop')
      .describe('drop: matching events; keep: only matching ones.'),
    match,
    sigma,
  }),
  z.strictObject({
    type: z.literal('sample').describe('Keeps 1 in N matching events, or one per key per interval.'),
    name,
    match,
    sigma,
    key: paths('Paths whose values make the sampling key (default: device.id, action).').default([
      'device.id',
      'action',
    ]),
    one_in: z.number().int().min(1).max(1_000_000).optional().describe('Keep 1 in this many per key.'),
    interval_secs: z
      .number()
      .positive()
      .max(86_400)
      .optional()
      .describe('Keep the first event per key in each interval of this many seconds.'),
  }),
  z.strictObject({
    type: z
      .literal('aggregate')
      .describe(
        'Folds matching events into one summary per key per interval (count, min/max/avg/last, distinct).',
      ),
    name,
    match,
    sigma,
    key: paths('Paths whose values make the key (default: device.id, action).').default([
      'device.id',
      'action',
    ]),
    interval_secs: interval(60),
    numbers: paths('Paths of numbers (or objects of numbers) summarised as count/min/max/avg/last.').default(
      [],
    ),
    distinct: paths('Paths whose distinct values are listed (at most 32 each).').default([]),
    summary_action: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('Action of the summary events (default: the first event’s action + `_summary`).'),
  }),
  z.strictObject({
    type: z
      .literal('modbus_reads')
      .describe(
        'Summarises Modbus reads (proxy, capture, poller) per master, unit, function and address range per interval; exceptions also pass one by one.',
      ),
    name,
    interval_secs: interval(60),
  }),
  z.strictObject({
    type: z.literal('dedupe').describe('Identical events within a window become one with a count.'),
    name,
    match,
    sigma,
    fields: paths('Paths that make events identical (default: action, device.id, src.ip, message).').default([
      'action',
      'device.id',
      'src.ip',
      'message',
    ]),
    window_secs: interval(10),
  }),
  z.strictObject({
    type: z
      .literal('pseudonymise')
      .describe('Replaces chosen fields with a keyed HMAC before they leave the site; the key stays here.'),
    name,
    fields: paths('Paths to pseudonymise (e.g. fields.user, src.ip).').min(1),
    key_file: z
      .string()
      .min(1)
      .optional()
      .describe('32+ random bytes; created (mode 0600) when missing. Default: <data_dir>/pseudonymise.key.'),
  }),
  z.strictObject({
    type: z.literal('route').describe('Puts matching events in a lane of the queue (priority, eviction).'),
    name,
    match,
    sigma,
    lane: z.enum(['alert', 'security', 'telemetry']).describe('The lane.'),
  }),
]);

export type StageConfig = z.output<typeof stageSchema>;

/**
 * The OT-aware default: observe everything; then summarise what repeats — Modbus reads and polls
 * (per master, unit, function and range per minute), sensor readings (MQTT and CoAP telemetry per
 * device and topic per minute), EtherNet/IP implicit I/O (`cip.io`, one event per datagram, 100
 * a second per connection at a 10 ms RPI: per device, sender and connection per minute), routine
 * syslog repeated word for word (per minute, with a count; auth and other security syslog pass at
 * once) — and forward the rest one by one: writes,
 * diagnostics, exceptions, policy violations, new devices and baseline deviations, alerts.
 */
export const DEFAULT_STAGES: StageConfig[] = [
  { type: 'normalise' },
  { type: 'inventory' },
  { type: 'baselines' },
  { type: 'detect' },
  { type: 'modbus_reads', interval_secs: 60 },
  {
    type: 'aggregate',
    name: 'sensor_telemetry',
    match: { action: ['mqtt.telemetry', 'coap.telemetry'] },
    key: ['device.id', 'fields.topic', 'fields.path'],
    interval_secs: 60,
    numbers: ['fields.values'],
    distinct: [],
  },
  {
    type: 'aggregate',
    name: 'cip_io',
    match: { action: 'cip.io' },
    key: ['device.id', 'src.ip', 'fields.connection_id'],
    interval_secs: 60,
    numbers: ['fields.data_bytes', 'fields.sequence'],
    distinct: [],
  },
  {
    // DNP3 integrity and class polls, S7 variable reads, BACnet property reads, OPC UA reads and
    // subscriptions: a master polls a device every few seconds, each request and answer an event.
    // Routine ones (telemetry, severity 6 or 7: no failure, no anomaly) fold per device, client,
    // server and action per minute; restarts, control, writes, errors and anomalies go one by one.
    type: 'aggregate',
    name: 'ot_polling',
    match: { source: ['dnp3', 's7comm', 'bacnet', 'opcua'], kind: 'telemetry', severity: [6, 7] },
    key: ['device.id', 'src.ip', 'dst.ip', 'action'],
    interval_secs: 60,
    numbers: [],
    distinct: [],
  },
  {
    type: 'dedupe',
    name: 'routine_syslog',
    match: { action: 'syslog.message', kind: 'telemetry' },
    fields: ['host', 'fields.app_name', 'fields.program', 'message'],
    window_secs: 60,
  },
];

/** Checks names and order; returns problems as (index, message). */
export function checkStageOrder(
  stages: ReadonlyArray<{ type: StageType; name?: string }>,
): Array<[number, string]> {
  const problems: Array<[number, string]> = [];
  const seen = new Set<string>();
  let firstReducing = -1;
  let detectAt = -1;
  const once = new Set<StageType>();
  stages.forEach((s, i) => {
    const label = s.name ?? s.type;
    if (seen.has(label)) problems.push([i, `stage name '${label}' is used twice; give one a \`name\``]);
    seen.add(label);
    if (s.type === 'normalise' && i !== 0) problems.push([i, 'normalise must be the first stage']);
    if (OBSERVING_STAGES.has(s.type) || s.type === 'normalise') {
      if (once.has(s.type)) problems.push([i, `${s.type} may appear once`]);
      once.add(s.type);
      if (firstReducing >= 0)
        problems.push([
          i,
          `${s.type} must come before '${stages[firstReducing]!.name ?? stages[firstReducing]!.type}' (stage ${firstReducing}): inventory, baselines and detection see every observation before any reduction`,
        ]);
    }
    if (s.type === 'detect') detectAt = i;
    if (REDUCING_STAGES.has(s.type) && firstReducing < 0) firstReducing = i;
    if (s.type === 'pseudonymise' && stages.some((o, j) => j > i && o.type === 'detect'))
      problems.push([i, 'pseudonymise must come after detect: rules match the real values']);
  });
  void detectAt;
  return problems;
}

const knownTypes = [...STAGE_TYPES].join(', ');

export const pipelineSchema = z
  .strictObject({
    forward: z
      .enum(['all', 'security', 'alerts'])
      .default('all')
      .describe(
        'What crosses the WAN: all (after the stages), security (no telemetry), or alerts (alerts, their evidence and the gateway’s health only), for very thin links.',
      ),
    stages: z
      .array(
        z.preprocess((v, ctx) => {
          const type = (v as { type?: unknown } | null)?.type;
          if (v && typeof v === 'object' && !(STAGE_TYPES as readonly unknown[]).includes(type)) {
            ctx.addIssue({
              code: 'custom',
              message:
                type === undefined
                  ? `a stage needs a \`type\` (one of ${knownTypes})`
                  : `unknown stage type '${String(type)}' (one of ${knownTypes})`,
            });
            return z.NEVER;
          }
          return v;
        }, stageSchema),
      )
      .max(64)
      .default(DEFAULT_STAGES)
      .describe(
        'The ordered stages (default: normalise, inventory, baselines, detect, modbus_reads, sensor_telemetry (aggregate), cip_io (aggregate), ot_polling (aggregate), routine_syslog (dedupe)).',
      ),
  })
  .superRefine((p, ctx) => {
    for (const [i, message] of checkStageOrder(p.stages))
      ctx.addIssue({ code: 'custom', path: ['stages', i], message });
    for (const [i, s] of p.stages.entries()) {
      if (s.type === 'sample' && (s.one_in === undefined) === (s.interval_secs === undefined))
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i],
          message: 'sample needs exactly one of one_in or interval_secs',
        });
      if (s.type === 'filter' && !s.match && !s.sigma)
        ctx.addIssue({ code: 'custom', path: ['stages', i], message: 'filter needs `match` or `sigma`' });
    }
  })
  .prefault({})
  .describe('What happens to observations between the sources and the queue (gateway/pipeline).');

export type PipelineConfig = z.output<typeof pipelineSchema>;
