/**
 * How central's assembly (central/index.ts) makes this process one node of a cluster (issue 22):
 * the event feed writer the store calls on each insert, and the cluster started over the node's own
 * link, with the link's view widened to every node's gateways. Nothing here when the cluster is off.
 */
import type { Logger } from 'pino';
import type { CentralConfig } from '../config/schema.ts';
import type { mountLink } from '../link/server.ts';
import type { StorageRow } from '../store/event-rows.ts';
import type { SqlExecutor } from '../store/sql-client.ts';
import { type ClusterOptions, clusterNodeId, createCluster, recordFeed } from './index.ts';

type NodeLink = ReturnType<typeof mountLink>;

/** The PostgreSQL a cluster of central nodes shares; a clear start error on PGlite. */
export function postgresUrl(config: CentralConfig): string {
  if (config.storage.type !== 'postgres')
    throw new Error(
      'cluster.enabled: several central nodes share one PostgreSQL; set storage.type: postgres',
    );
  return config.storage.url;
}

/** The store's `onInserted` of a cluster node: the event feed row of each insert (cluster/feed.ts). */
export function feedWriter(config: CentralConfig) {
  postgresUrl(config);
  const node = clusterNodeId(config.cluster);
  return (tx: SqlExecutor, rows: readonly StorageRow[]) => recordFeed(tx, node, rows);
}

/**
 * The cluster of a node (started; `register` gets its closer) and the link as the API sees it:
 * every node's connections, rule pushes, playbook sets and commands, and disconnects. Without a
 * cluster, the node's own link.
 */
export async function startClusterNode(
  config: CentralConfig,
  deps: Omit<ClusterOptions, 'config' | 'url' | 'link' | 'logger'> & { link: NodeLink; logger: Logger },
  register: (close: () => Promise<void> | void) => void,
) {
  const { link } = deps;
  if (!config.cluster.enabled) return { cluster: undefined, link };
  const cluster = createCluster({ ...deps, config: config.cluster, url: postgresUrl(config) });
  register(() => cluster.stop());
  await cluster.start();
  const nodeLink: NodeLink = {
    ...link,
    connections: () => cluster.connections(),
    pushRules: (gateway, message) => cluster.pushRules(gateway, message),
    disconnect: (gateway) => cluster.disconnect(gateway),
    sendPlaybooks: (gateway, message) => cluster.sendPlaybooks(gateway, message),
  };
  return { cluster, link: nodeLink };
}
