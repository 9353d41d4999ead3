/**
 * The `cluster:` block of central's config: several central nodes sharing one PostgreSQL
 * (issue 22, docs/scaling.md). Off by default: one node needs none of it.
 */
import { z } from 'zod';
import { gatewayIdSchema } from '../../protocols/event/schema.ts';

export const clusterConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Run as one of several central nodes on one PostgreSQL: event feed, one correlation leader, live streams and rule pushes across nodes.',
      ),
    node_id: gatewayIdSchema
      .optional()
      .describe(
        'This node in the cluster (logs, the event feed, cluster_nodes); default host name and process id.',
      ),
    heartbeat_interval_secs: z
      .number()
      .positive()
      .max(60)
      .default(2)
      .describe('How often a node records itself and its gateways, and a follower tries to become leader.'),
    node_timeout_secs: z
      .number()
      .positive()
      .max(600)
      .default(10)
      .describe('A node whose heartbeat is older than this is gone: its gateways are no longer counted.'),
    feed_poll_interval_ms: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(500)
      .describe('The leader reads the event feed at least this often (a notification wakes it sooner).'),
    feed_retention_secs: z
      .number()
      .int()
      .min(60)
      .default(3600)
      .describe(
        'Feed rows the leader has handled are deleted after this, or after the longest correlation timespan when longer.',
      ),
  })
  .prefault({});

export type ClusterConfig = z.output<typeof clusterConfigSchema>;
