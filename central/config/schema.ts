/**
 * Central's configuration: one YAML file validated by this strict schema (unknown keys are
 * errors naming their path). Secrets are never stored here: gateways and API clients are known
 * by the SHA-256 of their tokens; DATABASE_URL comes from the environment.
 */
import { ingestConfigSchema } from '../../server-shared/ingest-body.ts';
import { z } from 'zod';
import { listenSchema } from '../../server-shared/config/listen.ts';
import { tlsServerSchema } from '../../server-shared/config/tls.ts';
import { gatewayIdSchema } from '../../protocols/event/schema.ts';
import { webAuthConfigSchema } from '../../server-shared/web-auth/config.ts';
import { metricsAccessSchema } from '../../server-shared/web-auth/metrics-access.ts';
import { enrichmentConfigSchema } from '../enrich/config.ts';
import { MAX_AFTER_COMMIT_EVENTS } from '../ingest.ts';
import { playbooksConfigSchema } from '../playbooks/config.ts';
import { reportsConfigSchema } from '../reports/config.ts';
import { streamConfigSchema } from '../api/stream-limits.ts';
import { clusterConfigSchema } from '../cluster/config.ts';
import { sinksConfigSchema } from '../sinks/config.ts';
import { storeConfigSchema } from '../store/config.ts';

const sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits (sha256 of the token)');

export const centralConfigSchema = z.strictObject({
  http: z
    .strictObject({
      listen: listenSchema.default('127.0.0.1:8080').describe('API, dashboard and link endpoint.'),
      tls: tlsServerSchema.optional().describe('Serve HTTPS and wss:// (required in production).'),
      dashboard_dir: z
        .string()
        .min(1)
        .optional()
        .describe('The built SOC dashboard served at / (default: dist/dashboards/central of the checkout).'),
      metrics: metricsAccessSchema.describe(
        'Who may read /metrics: a bearer token (its sha256), peer address blocks, or both; open when neither is set.',
      ),
    })
    .prefault({}),
  storage: storeConfigSchema.describe('Where events are stored: embedded PGlite (default) or PostgreSQL.'),
  central: z
    .strictObject({
      id: gatewayIdSchema
        .default('central')
        .describe('Identity of this central in the events it raises itself (their `gateway` field).'),
    })
    .prefault({}),
  link: z
    .strictObject({
      path: z.string().startsWith('/').default('/link'),
      max_batch_events: z.number().int().positive().max(10_000).default(5000),
      heartbeat_interval_secs: z.number().positive().default(10),
      max_events_per_second_per_gateway: z
        .number()
        .min(0)
        .default(0)
        .describe('Ingest limit per gateway (0 = none): a faster gateway is slowed down, never dropped.'),
      max_concurrent_batches: z
        .number()
        .int()
        .min(1)
        .max(16)
        .default(2)
        .describe('Batches of one gateway stored at the same time on PostgreSQL (PGlite: always 1).'),
      max_queued_batches: z
        .number()
        .int()
        .min(1)
        .default(4)
        .describe('Batches waiting for storage per gateway before its window shrinks to one batch.'),
      max_unprocessed_events: z
        .number()
        .int()
        .min(1)
        .max(10_000_000)
        .default(MAX_AFTER_COMMIT_EVENTS)
        .describe(
          "Events stored and not yet through enrichment or detection past which central stores no more batches (they wait unacked, the gateways' disk queues hold the rest) and HTTP ingest answers 429.",
        ),
      max_clock_skew_secs: z
        .number()
        .positive()
        .default(60)
        .describe('A gateway clock further off than this raises a central.clock_skew health event.'),
      max_pending_connections: z
        .number()
        .int()
        .min(1)
        .max(4096)
        .default(64)
        .describe(
          'Link connections that have not authenticated yet, at most, from all addresses; more are closed (1013).',
        ),
      max_pending_connections_per_address: z
        .number()
        .int()
        .min(1)
        .max(4096)
        .default(16)
        .describe('Link connections that have not authenticated yet, at most, from one IP address.'),
      hello_timeout_secs: z
        .number()
        .positive()
        .max(300)
        .default(10)
        .describe('Time a new link connection has to authenticate before it is closed.'),
      refusal_summary_interval_secs: z
        .number()
        .positive()
        .max(86_400)
        .default(60)
        .describe(
          'Refused link logins and enrollments: the first per address in this interval is an event, the rest one summary event with a count.',
        ),
      refusal_max_tracked_addresses: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(1000)
        .describe(
          'Addresses tracked per interval for refusal events; refusals from further addresses share one summary.',
        ),
    })
    .prefault({}),
  enrollment: z
    .strictObject({
      default_ttl_secs: z
        .number()
        .int()
        .positive()
        .max(30 * 24 * 3600)
        .default(3600)
        .describe('Lifetime of an enrollment token when none is asked for.'),
    })
    .prefault({}),
  detection: z
    .strictObject({
      rules_dirs: z
        .array(z.string())
        .default([])
        .describe('Sigma rules central runs over every stored event, across gateways (e.g. rules/central).'),
      alert_window_secs: z
        .number()
        .min(0)
        .default(300)
        .describe('Repeats of a rule on the same entity within this window become one alert.'),
    })
    .prefault({}),
  api: z
    .strictObject({
      tokens: z
        .array(z.strictObject({ name: z.string().min(1).max(64), token_sha256: sha256Hex }))
        .default([])
        .describe('API bearer tokens (SHA-256); SIEM_API_TOKEN adds one from the environment.'),
      stream: streamConfigSchema.prefault({}),
      ingest: ingestConfigSchema.describe(
        'HTTP ingest: POST /api/ingest and POST /_bulk with a token of the ingest scope (docs/central.md).',
      ),
    })
    .prefault({}),
  auth: webAuthConfigSchema.describe(
    'Users, sessions, TOTP and the first admin (server-shared/web-auth/SPEC.md).',
  ),
  alerts: z
    .strictObject({
      group_window_secs: z
        .number()
        .int()
        .min(0)
        .max(7 * 86_400)
        .default(300)
        .describe(
          'Repeats of one rule on one entity within this many seconds of its first hit fold into one alert.',
        ),
      related_margin_secs: z
        .number()
        .int()
        .min(0)
        .max(7 * 86_400)
        .default(3600)
        .describe(
          "Related events of an alert: its entity's events this long before its first and after its last hit.",
        ),
      incident_window_secs: z
        .number()
        .int()
        .min(0)
        .max(7 * 86_400)
        .default(900)
        .describe(
          'Alerts of one attacker (source address, else user) within this many seconds of an open incident fold into it (0: no incidents).',
        ),
      incident_notify: z
        .enum(['alert', 'incident'])
        .default('alert')
        .describe(
          "Sinks: 'alert' forwards every new alert; 'incident' forwards only the alert that opens an incident (and alerts without an attacker).",
        ),
    })
    .prefault({}),
  sinks: sinksConfigSchema,
  enrichment: enrichmentConfigSchema,
  reports: reportsConfigSchema,
  playbooks: playbooksConfigSchema,
  cluster: clusterConfigSchema,
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});

export type CentralConfig = z.output<typeof centralConfigSchema>;
