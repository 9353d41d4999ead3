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

export const storeConfigSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('pglite'),
      data_dir: z
        .string()
        .min(1)
        .optional()
        .describe('Directory of the embedded database; omitted keeps it in memory (lost on exit).'),
      partitions: partitionsSchema.optional(),
    })
    .describe('Embedded PostgreSQL (PGlite): no server needed.'),
  z
    .strictObject({
      type: z.literal('postgres'),
      url: z.string().min(1).describe('Connection URL, postgres://user:password@host:port/database.'),
      pool_max: z.number().int().min(1).max(1000).default(10).describe('Connections in the pool.'),
      partitions: partitionsSchema.optional(),
    })
    .describe('A PostgreSQL server shared by every central node.'),
]);

export type StoreConfig = z.input<typeof storeConfigSchema>;
