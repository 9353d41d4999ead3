/**
 * Several central nodes on one PostgreSQL (issue 22, `cluster.enabled`, docs/scaling.md). Every
 * node accepts any gateway, API call and dashboard session (sessions, tokens, rules, alerts and the
 * outbox are rows already); what lived in one process's memory is shared here:
 * - the event feed (feed.ts), written in each insert's transaction, which one leader (leader.ts)
 *   reads by cursor to run central's correlations once over what every node stored;
 * - a heartbeat row per node (`cluster_nodes`) naming the gateways connected to it, so the fleet
 *   view, the live stream and rule pushes see the gateways of every node;
 * - messages over LISTEN/NOTIFY (bus.ts): an alert raised or changed on one node reaches the live
 *   streams of all; a rule push, a playbook set, a playbook command or a revocation reaches the
 *   node that holds the gateway; the stores' change notices (store/table-changes.ts) reach every
 *   node's caches: a playbook list or central's rules changed on one node are reloaded on all.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { CommandMessage, PlaybooksMessage, RulesMessage } from '../../protocols/link/codec.ts';
import type { Alert } from '../alerts/types.ts';
import type { GatewayConnection } from '../link/server.ts';
import type { SqlExecutor } from '../store/sql-client.ts';
import type { TableChanges } from '../store/table-changes.ts';
import { chunkGateways, type ClusterMessage, createClusterBus } from './bus.ts';
import type { ClusterConfig } from './config.ts';
import { createLeader, type LeaderDetection } from './leader.ts';

export { recordFeed } from './feed.ts';
export type { ClusterConfig } from './config.ts';

/** This node's id: `cluster.node_id`, or the host name and process id. */
export function clusterNodeId(config: ClusterConfig): string {
  if (config.node_id) return config.node_id;
  const host = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 48);
  return `${host || 'central'}-${process.pid}`;
}

/** What of the local link the cluster wraps. */
export interface LocalLink {
  connections(): GatewayConnection[];
  pushRules(gateway: string, message: RulesMessage): boolean;
  disconnect(gateway: string): void;
  sendPlaybooks(gateway: string, message: PlaybooksMessage | CommandMessage): boolean;
}

/** What of central's playbooks (central/playbooks) the node holding a gateway does for another node. */
export interface ClusterPlaybooks {
  /** Sends command `commandId` of a stored action to `gateway` through `send`, once (claimed in the store). */
  command(gateway: string, commandId: string, send: (message: CommandMessage) => boolean): void;
  /** The playbook set `gateway` should run. */
  setFor(gateway: string): Promise<PlaybooksMessage>;
}

export interface ClusterOptions {
  config: ClusterConfig;
  /** The PostgreSQL connection string (the bus and the leader each hold a connection of their own). */
  url: string;
  sql: SqlExecutor;
  logger: Logger;
  detection: LeaderDetection;
  alerts: {
    changes: EventEmitter<{ alert: [Alert] }>;
    store: { get(id: number): Promise<Alert | undefined> };
  };
  rules: { assigned(gateway: string): Promise<RulesMessage | undefined> };
  link: LocalLink;
  /** Playbook commands and sets sent by other nodes to gateways connected here (absent: not relayed). */
  playbooks?: ClusterPlaybooks;
  /** The stores' change notices of this node: those heard on the bus are handed to it. */
  tableChanges: TableChanges;
}

type StoredConnection = Omit<GatewayConnection, 'connectedAt' | 'lastSeen'> & {
  connectedAt: string;
  lastSeen: string;
};

export function createCluster(options: ClusterOptions) {
  const { config, logger, link } = options;
  const node = clusterNodeId(config);
  const startedAt = new Date();
  /** Every alert change of the cluster, for this node's live stream: local ones and those of peers. */
  const changes = new EventEmitter<{ alert: [Alert] }>();
  /** Gateways connected to the other live nodes, as of the last heartbeat. */
  let remote = new Map<string, { node: string; connection: GatewayConnection }>();
  let heartbeat: NodeJS.Timeout | undefined;
  let pushing = new Set<string>();
  let pushingSets = new Set<string>();

  const warn = (what: string) => (error: Error) => logger.warn({ err: error.message }, what);

  const bus = createClusterBus({
    url: options.url,
    node,
    logger,
    // Its own notices skipped: this node's caches were told when its write committed.
    onTableChange: (payload) => options.tableChanges.heard(payload),
    onRelisten: () => options.tableChanges.all(),
    onMessage(message: ClusterMessage) {
      if (message.type === 'alert') {
        void options.alerts.store
          .get(message.id)
          .then((alert) => alert && changes.emit('alert', alert))
          .catch(warn('cluster: cannot read an alert of another node'));
      } else if (message.type === 'rules_push') {
        for (const gateway of message.gateways) {
          if (!isLocal(gateway)) continue;
          void options.rules
            .assigned(gateway)
            .then((set) => set && link.pushRules(gateway, set))
            .catch(warn('cluster: cannot push rules'));
        }
      } else if (message.type === 'command') {
        const { gateway, command_id: id } = message;
        if (typeof gateway !== 'string' || typeof id !== 'string' || !isLocal(gateway)) return;
        options.playbooks?.command(gateway, id, (m) => link.sendPlaybooks(gateway, m));
      } else if (message.type === 'playbooks_push') {
        for (const gateway of message.gateways) {
          if (!isLocal(gateway) || !options.playbooks) continue;
          void options.playbooks
            .setFor(gateway)
            .then((set) => link.sendPlaybooks(gateway, set))
            .catch(warn('cluster: cannot send a playbook set'));
        }
      } else if (message.type === 'disconnect') {
        for (const gateway of message.gateways) link.disconnect(gateway);
      }
    },
  });

  const leader = createLeader({
    url: options.url,
    node,
    detection: options.detection,
    logger: logger.child({ component: 'cluster-leader' }),
    tryEveryMs: config.heartbeat_interval_secs * 1000,
    pollMs: config.feed_poll_interval_ms,
    // A leader silent as long as a node that is gone loses the lead; never less than a few of its
    // polls, nor than two of a follower's tries (its connection would be ended between them).
    idleSessionMs: Math.max(
      config.node_timeout_secs * 1000,
      4 * config.feed_poll_interval_ms,
      2 * config.heartbeat_interval_secs * 1000,
    ),
    retentionMs: config.feed_retention_secs * 1000,
    onChange: () => void beat().catch(warn('cluster heartbeat failed')),
  });

  const onLocalAlert = (alert: Alert) => {
    changes.emit('alert', alert);
    void bus
      .publish(options.sql, { type: 'alert', id: alert.id })
      .catch(warn('cluster: cannot announce an alert'));
  };

  const isLocal = (gateway: string) => link.connections().some((c) => c.gateway === gateway);

  /** Records this node and its gateways, and reads those of the other live nodes. */
  async function beat(): Promise<void> {
    const local: StoredConnection[] = link.connections().map((c) => ({
      ...c,
      connectedAt: c.connectedAt.toISOString(),
      lastSeen: c.lastSeen.toISOString(),
    }));
    await options.sql.query(
      `INSERT INTO cluster_nodes (node, started_at, heartbeat_at, leader, gateways)
       VALUES ($1, $2::timestamptz, now(), $3, $4::jsonb)
       ON CONFLICT (node) DO UPDATE SET heartbeat_at = now(), leader = EXCLUDED.leader,
         gateways = EXCLUDED.gateways, started_at = EXCLUDED.started_at`,
      [node, startedAt.toISOString(), leader.isLeader(), JSON.stringify(local)],
    );
    const { rows } = await options.sql.query<{ node: string; gateways: StoredConnection[] }>(
      `SELECT node, gateways FROM cluster_nodes
        WHERE node <> $1 AND heartbeat_at > now() - make_interval(secs => $2)`,
      [node, config.node_timeout_secs],
    );
    const next = new Map<string, { node: string; connection: GatewayConnection }>();
    for (const row of rows) {
      for (const c of row.gateways) {
        const connection = { ...c, connectedAt: new Date(c.connectedAt), lastSeen: new Date(c.lastSeen) };
        const seen = next.get(c.gateway);
        // A gateway that moved may be listed by two nodes for a heartbeat: the newer session wins.
        if (!seen || seen.connection.connectedAt < connection.connectedAt)
          next.set(c.gateway, { node: row.node, connection });
      }
    }
    remote = next;
  }

  const flushPushes = () => {
    const gateways = [...pushing];
    pushing = new Set();
    for (const chunk of chunkGateways(gateways))
      void bus
        .publish(options.sql, { type: 'rules_push', gateways: chunk })
        .catch(warn('cluster: cannot relay a push'));
  };

  const flushSets = () => {
    const gateways = [...pushingSets];
    pushingSets = new Set();
    for (const chunk of chunkGateways(gateways))
      void bus
        .publish(options.sql, { type: 'playbooks_push', gateways: chunk })
        .catch(warn('cluster: cannot relay a playbook push'));
  };

  return {
    node,
    changes,
    leader,
    /** The gateways connected to any live node of the cluster (this node's first). */
    connections(): GatewayConnection[] {
      const local = link.connections();
      const here = new Set(local.map((c) => c.gateway));
      return [
        ...local,
        ...[...remote.values()].filter((r) => !here.has(r.connection.gateway)).map((r) => r.connection),
      ];
    },
    /** Which node a gateway is connected to, as far as this node knows. */
    nodeOf(gateway: string): string | undefined {
      return isLocal(gateway) ? node : remote.get(gateway)?.node;
    },
    /**
     * Sends a rule set to a gateway on this node, or asks the node holding it to send the set
     * assigned to it (the push route assigns it first). True when sent or relayed.
     */
    pushRules(gateway: string, message: RulesMessage): boolean {
      if (link.pushRules(gateway, message)) return true;
      if (!remote.has(gateway)) return false;
      if (pushing.size === 0) queueMicrotask(flushPushes);
      pushing.add(gateway);
      return true;
    },
    /**
     * Sends a playbook set or command to a gateway on this node, or relays it to the node holding
     * the gateway. A set is relayed by name (that node computes the gateway's set) and counts as
     * sent. A command is relayed by id and returns false: its action stays queued (or undoing) in
     * the store, and whichever node sends it first claims it there (central/playbooks), so neither
     * the relay nor the gateway's next connection sends it twice.
     */
    sendPlaybooks(gateway: string, message: PlaybooksMessage | CommandMessage): boolean {
      if (link.sendPlaybooks(gateway, message)) return true;
      if (!remote.has(gateway)) return false;
      if (message.type === 'command') {
        void bus
          .publish(options.sql, { type: 'command', gateway, command_id: message.command_id })
          .catch(warn('cluster: cannot relay a playbook command'));
        return false;
      }
      if (pushingSets.size === 0) queueMicrotask(flushSets);
      pushingSets.add(gateway);
      return true;
    },
    /** Closes a revoked gateway's connection, on whichever node it is. */
    disconnect(gateway: string): void {
      link.disconnect(gateway);
      if (remote.has(gateway))
        void bus
          .publish(options.sql, { type: 'disconnect', gateways: [gateway] })
          .catch(warn('cluster: cannot relay a revocation'));
    },
    async start(): Promise<void> {
      options.alerts.changes.on('alert', onLocalAlert);
      options.detection.setActive(false);
      await bus.start();
      await beat().catch(warn('cluster heartbeat failed'));
      heartbeat = setInterval(
        () => void beat().catch(warn('cluster heartbeat failed')),
        config.heartbeat_interval_secs * 1000,
      );
      heartbeat.unref();
      leader.start();
      logger.info({ node }, 'central node joined the cluster');
    },
    async stop(): Promise<void> {
      clearInterval(heartbeat);
      options.alerts.changes.off('alert', onLocalAlert);
      await leader.stop();
      await bus.stop();
      // Gone at once rather than after node_timeout_secs.
      await options.sql.query('DELETE FROM cluster_nodes WHERE node = $1', [node]).catch(() => undefined);
    },
  };
}

export type Cluster = ReturnType<typeof createCluster>;
