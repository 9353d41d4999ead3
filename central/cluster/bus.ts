/**
 * Messages between central nodes over PostgreSQL LISTEN/NOTIFY (one channel, JSON payloads
 * naming their sender). Each node holds one connection of its own that LISTENs, reconnecting
 * after a loss; messages sent while it was away are not replayed (what relies on the bus also has
 * a way back: gateways ask for their assigned rules on connect, the dashboard reloads its lists).
 * NOTIFY is sent through the pool and delivered to listeners when its transaction commits.
 * The same connection LISTENs to the stores' change notices (store/table-changes.ts: the table
 * written and by which process), handed to `onTableChange`; after a reconnection `onRelisten` is called, since
 * notices sent meanwhile were missed.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { primaryUrl } from '../store/pg-failover.ts';
import type { SqlExecutor } from '../store/sql-client.ts';
import { TABLE_CHANGES_CHANNEL } from '../store/table-changes.ts';

export const CLUSTER_CHANNEL = 'siem_cluster';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7900;

export type ClusterMessage =
  | { type: 'alert'; id: number }
  | { type: 'rules_push'; gateways: string[] }
  | { type: 'disconnect'; gateways: string[] }
  /** Playbook command `command_id` (`a-<action>`/`u-<action>`) waits for `gateway`: its node sends it. */
  | { type: 'command'; gateway: string; command_id: string }
  /** The playbook sets of these gateways changed: their nodes send each its set. */
  | { type: 'playbooks_push'; gateways: string[] };

export interface ClusterBusOptions {
  url: string;
  node: string;
  logger: Logger;
  onMessage: (message: ClusterMessage, from: string) => void;
  /** A store's change notice: its payload, the table written and by whom (store/table-changes.ts). */
  onTableChange?: (payload: string) => void;
  /** Listening again after a lost connection: the notices sent meanwhile were missed. */
  onRelisten?: () => void;
  /** Delay before reconnecting the listening connection (default 1 s). */
  reconnectMs?: number;
}

export function createClusterBus(options: ClusterBusOptions) {
  let client: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let ready: Promise<void> | undefined;
  let listened = false;

  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, options.reconnectMs ?? 1000);
    timer.unref();
  };

  async function connect(): Promise<void> {
    // A multi-host storage.url (a primary and standbys): LISTEN on the read-write one.
    let url: string;
    try {
      url = await primaryUrl(options.url);
    } catch (error) {
      options.logger.warn({ err: (error as Error).message }, 'cluster bus cannot listen; retrying');
      schedule();
      return;
    }
    const c = new pg.Client({ connectionString: url });
    // An error or end of this connection drops it and starts over.
    c.on('error', (error) => {
      options.logger.warn({ err: error.message }, 'cluster bus connection lost');
      if (client === c) client = undefined;
      void c.end().catch(() => undefined);
      schedule();
    });
    c.on('end', () => {
      if (client === c) client = undefined;
      schedule();
    });
    c.on('notification', (n) => {
      if (n.channel === TABLE_CHANGES_CHANNEL && n.payload) return options.onTableChange?.(n.payload);
      if (n.channel !== CLUSTER_CHANNEL || !n.payload) return;
      try {
        const { from, ...message } = JSON.parse(n.payload) as ClusterMessage & { from: string };
        if (from !== options.node) options.onMessage(message as ClusterMessage, from);
      } catch {
        options.logger.warn('cluster bus: unreadable message ignored');
      }
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CLUSTER_CHANNEL}`);
      await c.query(`LISTEN ${TABLE_CHANGES_CHANNEL}`);
      if (stopped) {
        await c.end();
        return;
      }
      client = c;
      if (listened) options.onRelisten?.();
      listened = true;
    } catch (error) {
      options.logger.warn({ err: (error as Error).message }, 'cluster bus cannot listen; retrying');
      void c.end().catch(() => undefined);
      schedule();
    }
  }

  return {
    /** Resolves once the first LISTEN succeeded or failed (a failure is retried in the background). */
    start(): Promise<void> {
      ready ??= connect();
      return ready;
    },
    /** Whether this node listens now. */
    listening: () => client !== undefined,
    /** Sends `message` to every other node (a payload too large is refused: split it first). */
    async publish(db: SqlExecutor, message: ClusterMessage): Promise<void> {
      const payload = JSON.stringify({ ...message, from: options.node });
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) throw new RangeError('cluster message too large');
      await db.query('SELECT pg_notify($1, $2)', [CLUSTER_CHANNEL, payload]);
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}

export type ClusterBus = ReturnType<typeof createClusterBus>;

/** Gateway ids cut into groups whose `rules_push` (or `playbooks_push`) message fits a NOTIFY payload. */
export function chunkGateways(gateways: readonly string[], maxBytes = MAX_PAYLOAD_BYTES - 200): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const g of gateways) {
    const cost = Buffer.byteLength(JSON.stringify(g)) + 1;
    if (current.length > 0 && size + cost > maxBytes) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(g);
    size += cost;
  }
  if (current.length > 0) out.push(current);
  return out;
}
