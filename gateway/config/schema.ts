/**
 * The gateway's configuration: one YAML file validated by this strict schema. Every key has a
 * description and a default where one is safe; an unknown key is an error naming its path.
 * Precedence is defaults < file < environment < command-line flags (see load.ts).
 */
import { z } from 'zod';
import { EVENT_SOURCES, gatewayIdSchema } from '../../protocols/event/schema.ts';
import { ingestConfigSchema } from '../../server-shared/ingest-body.ts';
import { sourceSchema } from '../sources/schema.ts';
import { listenSchema } from './common.ts';
import { webAuthConfigSchema } from '../../server-shared/web-auth/config.ts';
import { metricsAccessSchema } from '../../server-shared/web-auth/metrics-access.ts';
import { pipelineSchema } from '../pipeline/config.ts';

const linkUrlSchema = z.url({ protocol: /^wss?$/ });

export const gatewayConfigSchema = z.strictObject({
  gateway: z.strictObject({
    id: gatewayIdSchema.describe('This gateway’s id, unique in the deployment (letters, digits, . _ -).'),
    data_dir: z.string().min(1).describe('Where the LevelDB queue and state live; must survive reboots.'),
  }),
  sources: z
    .record(z.string().regex(/^[a-z0-9_]+$/, 'source names are snake_case'), sourceSchema)
    .describe('Named sources; each has a type.'),
  queue: z
    .strictObject({
      max_batch_events: z
        .number()
        .int()
        .positive()
        .max(10_000)
        .default(200)
        .describe('Events packed into one LevelDB record (one put per record is what costs).'),
      flush_interval_ms: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        // 10 ms: at 1,000 events/s the gateway used 24-27% of a core with 5 ms and 19-20% with 10
        // (npm run bench gateway): half the fsyncs and link batches, for at most 5 ms more latency.
        .default(10)
        .describe('How long appends are gathered into one durable write.'),
      sync: z.boolean().default(true).describe('fsync each write before acking to devices.'),
      max_size_bytes: z
        .number()
        .int()
        .min(0)
        .default(512 * 1024 * 1024)
        .describe(
          'Cap on queued bytes (0 = none). When reached: oldest telemetry is evicted, then oldest security events; alerts never.',
        ),
      report_interval_secs: z
        .number()
        .positive()
        .default(10)
        .describe('How often evictions and refused input are reported to central as one health event.'),
    })
    .prefault({}),
  central: z
    .strictObject({
      endpoint: linkUrlSchema
        .optional()
        .describe('Central’s link URL, e.g. wss://central.example:8443/link (one node; or use `endpoints`).'),
      endpoints: z
        .array(linkUrlSchema)
        .min(1)
        .max(16)
        .optional()
        .describe(
          'Link URLs of several central nodes sharing one PostgreSQL, most preferred first: on link loss or a failed handshake the gateway tries the next one; it returns to the first once that is healthy again (see `failback`).',
        ),
      failback: z
        .strictObject({
          check_interval_secs: z
            .number()
            .positive()
            .max(3600)
            .default(10)
            .describe('While on a fallback node, how often the first endpoint’s /healthz is asked.'),
          healthy_checks: z
            .number()
            .int()
            .min(1)
            .max(100)
            .default(3)
            .describe(
              'Consecutive healthy answers before the gateway moves back to the first endpoint (no flapping: one failure starts the count again).',
            ),
        })
        .prefault({})
        .describe('Return to the first of `endpoints` after a failover.'),
      credentials_file: z
        .string()
        .optional()
        .describe(
          'Where `siem-gateway enroll` keeps the gateway key (default: <data_dir>/credentials.json, mode 0600).',
        ),
      enrollment_token_file: z
        .string()
        .optional()
        .describe(
          'A one-time enrollment token; without credentials, `run` enrolls with it first, then deletes it (default: <data_dir>/enrollment-token).',
        ),
      batch_max_events: z
        .number()
        .int()
        .positive()
        .max(10_000)
        .default(1000)
        .describe('Events per link batch.'),
      batch_max_bytes: z
        .number()
        .int()
        .min(65_536)
        .max(8 * 1024 * 1024)
        .default(4 * 1024 * 1024)
        .describe('Bytes per link batch (the link refuses frames over 16 MiB).'),
      max_in_flight_batches: z.number().int().min(1).max(64).default(4).describe('Unacked batches at once.'),
      heartbeat_interval_secs: z.number().positive().default(10).describe('Heartbeat period; dead after 3.'),
      stop_drain_secs: z
        .number()
        .min(0)
        .max(300)
        .default(5)
        .describe(
          'On SIGTERM/SIGINT, with inputs closed, keep forwarding for at most this long while the link is up; what is left stays queued on disk.',
        ),
      initial_backoff_secs: z.number().positive().default(0.5).describe('First reconnect delay.'),
      max_backoff_secs: z.number().positive().default(30).describe('Longest reconnect delay.'),
      tls: z
        .strictObject({
          ca_file: z.string().optional().describe('CA bundle to verify central (default: system CAs).'),
          cert_file: z.string().optional().describe('Client certificate, when central requires one.'),
          key_file: z.string().optional().describe('Client key.'),
        })
        .optional(),
    })
    .superRefine((c, ctx) => {
      if ((c.endpoint === undefined) === (c.endpoints === undefined))
        ctx.addIssue({
          code: 'custom',
          path: ['endpoint'],
          message: 'give central.endpoint or central.endpoints (a list), exactly one of them',
        });
      if (c.endpoints && new Set(c.endpoints).size !== c.endpoints.length)
        ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'an endpoint is listed twice' });
    })
    // One shape downstream: `endpoints` always set, `endpoint` the preferred (first) of them.
    .transform((c) => {
      const endpoints = c.endpoints ?? [c.endpoint!];
      return { ...c, endpoint: endpoints[0]!, endpoints };
    }),
  detection: z
    .strictObject({
      rules_dirs: z
        .array(z.string())
        .default([])
        .describe('Directories of Sigma rules (*.yml, recursively): detection rules, correlations, filters.'),
      field_map: z
        .record(z.string(), z.string())
        .default({})
        .describe('Rule field names mapped onto Event paths, e.g. { ClientId: fields.client_id }.'),
      logsources: z
        .record(z.string(), z.array(z.enum(EVENT_SOURCES)))
        .default({})
        .describe("Extra logsource mappings, e.g. { 'product:cisco': [syslog] }."),
      placeholders: z
        .record(
          z
            .string()
            .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a placeholder name is letters, digits, _ . - (at most 64)'),
          z.array(z.string().min(1).max(256)).max(4096),
        )
        .default({})
        .describe(
          "Values of Sigma `|expand` placeholders, e.g. { engineering_stations: ['10.0.5.20', '10.0.5.21'] } for %engineering_stations%.",
        ),
      alert_window_secs: z
        .number()
        .min(0)
        .default(300)
        .describe('Repeats of a rule on the same device within this window become one alert with a count.'),
    })
    .prefault({}),
  pipeline: pipelineSchema,
  playbooks: z
    .strictObject({
      max_entries: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(1000)
        .describe(
          'Response entries (blocked MQTT client ids and addresses, denied Modbus masters, enforced proxies) kept at most; a block beyond is refused and reported.',
        ),
    })
    .prefault({})
    .describe(
      'Response playbooks pushed by central, run on local alerts (docs/central.md "Response playbooks").',
    ),
  baselines: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Learn per-device behaviour and report deviations.'),
      learning_hours: z
        .number()
        .positive()
        .default(24)
        .describe('How long each device is watched before deviations are reported.'),
      range_margin: z
        .number()
        .min(0)
        .default(0.1)
        .describe('Share of a learned value range a value may exceed it by before it is out of range.'),
      rate_factor: z
        .number()
        .min(1)
        .default(10)
        .describe('A message rate this many times the learned peak is a surge.'),
    })
    .prefault({}),
  inventory: z
    .strictObject({
      max_devices: z
        .number()
        .int()
        .min(10)
        .max(1_000_000)
        .default(10_000)
        .describe('Devices remembered; past it the one seen least recently is forgotten (counted).'),
      commissioning_hours: z
        .number()
        .min(0)
        .max(24 * 90)
        .default(0)
        .describe(
          "After the gateway's first start, devices first seen within this many hours are the plant as commissioned: their gateway.new_device events carry fields.commissioning and raise no alert. 0: every new device alerts.",
        ),
    })
    .prefault({}),
  http: z
    .strictObject({
      listen: listenSchema.default('127.0.0.1:9100').describe('Local HTTP: /healthz and /metrics.'),
      auth: webAuthConfigSchema.describe(
        'Users, sessions, TOTP and the first admin of the local API (server-shared/web-auth/SPEC.md).',
      ),
      metrics: metricsAccessSchema.describe(
        'Who may read /metrics: a bearer token (its sha256), peer address blocks, or both; open when neither is set.',
      ),
      dashboard_dir: z
        .string()
        .min(1)
        .optional()
        .describe(
          'The built device dashboard served at / (default: dist/dashboards/gateway of this install).',
        ),
      ingest: ingestConfigSchema.describe(
        'HTTP ingest: POST /api/ingest and POST /_bulk with a token of the ingest scope (docs/sources.md).',
      ),
      device_history: z
        .strictObject({
          points_per_value: z
            .number()
            .int()
            .min(10)
            .max(100_000)
            .default(300)
            .describe('Recent points kept per charted value (16 bytes each).'),
          max_values: z
            .number()
            .int()
            .min(1)
            .max(100_000)
            .default(1000)
            .describe('Charted values across all devices; more are not charted (counted).'),
          events_per_device: z
            .number()
            .int()
            .min(1)
            .max(1000)
            .default(50)
            .describe('Recent events kept per device for its page.'),
          max_devices: z
            .number()
            .int()
            .min(1)
            .max(100_000)
            .default(1000)
            .describe('Devices with live history; past it the least recently updated is forgotten.'),
          max_alerts: z.number().int().min(1).max(100_000).default(500).describe('Recent local alerts kept.'),
        })
        .prefault({})
        .describe('The dashboard’s in-memory live history (lost on restart; the queue is the record).'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
