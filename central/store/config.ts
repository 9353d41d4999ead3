/**
 * The `store:` block of central's YAML config: which adapter, where its data lives, and how many
 * daily partitions to keep ready. snake_case keys, strict (an unknown key is an error naming it).
 */
import { z } from 'zod';
import { DEFAULT_PARTITION_POLICY } from './partitions.ts';

const partitionsSchema = z
  .strictObject({
    past_days: z
      .number()
      .int()
      .min(0)
      .max(3660)
      .default(DEFAULT_PARTITION_POLICY.pastDays)
      .describe('Daily partitions kept ready before today (UTC); older days go to events_default.'),
    ahead_days: z
      .number()
      .int()
      .min(0)
      .max(3660)
      .default(DEFAULT_PARTITION_POLICY.aheadDays)
      .describe('Daily partitions created ahead of today (UTC).'),
  })
  .describe('Partition window around today.');

const retentionSchema = z
  .strictObject({
    events_days: z
      .number()
      .int()
      .min(0)
      .max(36_600)
      .default(0)
      .describe(
        'Drop a daily events partition once all its events are older than this many days (0 = keep forever).',
      ),
    alerts_days: z
      .number()
      .int()
      .min(0)
      .max(36_600)
      .default(0)
      .describe(
        'Delete resolved and false-positive alerts (with their comments, history and outbox rows) unchanged for this many days (0 = keep forever). Open alerts are never deleted.',
      ),
    outbox_days: z
      .number()
      .int()
      .min(0)
      .max(36_600)
      .default(7)
      .describe(
        'Delete forwarding-outbox rows delivered or rejected this many days ago (0 = keep). Pending deliveries are never deleted.',
      ),
    audit_days: z
      .number()
      .int()
      .min(0)
      .max(36_600)
      .default(365)
      .describe(
        'Delete audit log rows (logins, failures, changes) older than this many days (0 = keep forever).',
      ),
    archive: z
      .strictObject({
        dir: z
          .string()
          .min(1)
          .describe('Directory receiving one archive file and one manifest per partition.'),
        format: z
          .enum(['ndjson', 'csv'])
          .default('ndjson')
          .describe('gzip-compressed NDJSON (one row object a line) or CSV (header first).'),
      })
      .optional()
      .describe('Archive each partition before dropping it; restore with `siem-central archive restore`.'),
  })
  .describe(
    'Retention of stored events, by whole daily partitions, and of closed alerts, finished outbox rows and the audit log (run hourly by the lifecycle job).',
  );

const common = {
  partitions: partitionsSchema.optional(),
  retention: retentionSchema.optional(),
  default_partition_max_rows: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'Rows tolerated in events_default (timestamps outside every daily partition) before a central.default_partition_rows health event (default 0).',
    ),
  flag_clock_skew_secs: z
    .number()
    .min(0)
    .optional()
    .describe(
      "An event whose own time (ts) is further than this from its arrival (the gateway's received, on central's clock) is stored with tag clock_skew and fields.clock_skew_ms (default 300; 0 = never).",
    ),
};

const unionSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('pglite'),
      data_dir: z
        .string()
        .min(1)
        .optional()
        .describe('Directory of the embedded database; omitted keeps it in memory (lost on exit).'),
      ...common,
    })
    .describe('Embedded PostgreSQL (PGlite): no server needed.'),
  z
    .strictObject({
      type: z.literal('postgres'),
      url: z.string().min(1).describe('Connection URL, postgres://user:password@host:port/database.'),
      pool_max: z.number().int().min(1).max(1000).default(10).describe('Connections in the pool.'),
      lock_wait_secs: z
        .number()
        .min(0.05)
        .max(600)
        .default(5)
        .describe(
          "How long storing a batch waits for rows another transaction holds (a central node hung mid-write) before leaving the batch unacked and trying it again a second later; the link's other batches are stored meanwhile.",
        ),
      stalled_session_secs: z
        .number()
        .min(1)
        .max(86_400)
        .default(30)
        .describe(
          'How long a central connection may stop in the middle of a write before it is ended and what it held is freed: PostgreSQL ends one idle inside a transaction (idle_in_transaction_session_timeout), and a node whose insert finds its rows held ends a central COPY still waiting for its data. A central node that hangs mid-write (a paused VM, a stopped process) holds up the others this long at most, not until its connection dies.',
        ),
      ...common,
    })
    .describe('A PostgreSQL server shared by every central node.'),
]);

// Retention shorter than the partition window would drop days the window creates again each hour.
export const storeConfigSchema = unionSchema.superRefine((config, ctx) => {
  const days = config.retention?.events_days ?? 0;
  const past = config.partitions?.past_days ?? DEFAULT_PARTITION_POLICY.pastDays;
  if (days > 0 && days < past) {
    ctx.addIssue({
      code: 'custom',
      path: ['retention', 'events_days'],
      message: `must be 0 or at least partitions.past_days (${past})`,
    });
  }
});

export type StoreConfig = z.input<typeof storeConfigSchema>;
export type ParsedStoreConfig = z.output<typeof storeConfigSchema>;
