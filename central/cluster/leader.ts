/**
 * One leader among central nodes, for the work that must run once over the whole cluster:
 * central's Sigma correlations (central/detection.ts) over the events every node stored.
 * Leadership is a session-level PostgreSQL advisory lock held on a connection of its own: when
 * the leader's process dies or its connection drops, PostgreSQL releases the lock and another
 * node, trying at every heartbeat, takes it. Everything the leader does with the feed (reading,
 * moving its cursor) goes through that same connection, so a node that lost the lock cannot
 * move the cursor after its successor has.
 *
 * On taking over, the leader forgets its engine's state, replays silently the feed rows up to
 * the saved cursor that fall within the longest correlation timespan (the windows the previous
 * leader had), then handles the rows after the cursor, raising their alerts, and moves the
 * cursor after each row that raised one and after each page.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Event } from '../../protocols/event/schema.ts';
import {
  FEED_START,
  type FeedCursor,
  feedEvents,
  loadCursor,
  pruneFeed,
  readFeed,
  readFeedBefore,
  saveCursor,
} from './feed.ts';
import { primaryUrl } from '../store/pg-failover.ts';

/** The advisory lock key of the correlation leader (distinct from the DDL lock, sql-client.ts). */
export const LEADER_LOCK_KEY = '7305921748236110022';
export const CURSOR_NAME = 'correlation';
const PAGE_ROWS = 100;
/** Most feed rows replayed silently by a new leader. */
const REPLAY_MAX_ROWS = 50_000;
const PRUNE_EVERY_MS = 60_000;

/** The part of central's detection the leader drives. */
export interface LeaderDetection {
  consume(events: Event[]): Promise<number>;
  replay(events: readonly Event[]): Promise<void>;
  reset(): Promise<void>;
  setActive(value: boolean): void;
  maxTimespanMs(): number;
  /** Whether central runs rules of its own (without, only the gateways' alerts are read back). */
  hasRules(): boolean;
}

export interface LeaderOptions {
  url: string;
  node: string;
  detection: LeaderDetection;
  logger: Logger;
  /** How often a follower tries to take the lock. */
  tryEveryMs: number;
  /** How often the leader reads the feed when it has caught up. */
  pollMs: number;
  /** Handled feed rows older than this are deleted (at least the longest correlation timespan). */
  retentionMs: number;
  /**
   * PostgreSQL ends the lock's connection after this long without a query (`idle_session_timeout`):
   * a leader that hangs (a paused VM, a stopped process) and so stops reading the feed loses the
   * lock, and another node leads. Longer than `pollMs`, the leader's longest idle time when well.
   */
  idleSessionMs?: number;
  /** Told when this node becomes or stops being the leader. */
  onChange?: (leader: boolean) => void;
}

export function createLeader(options: LeaderOptions) {
  const { logger } = options;
  let client: pg.Client | undefined;
  let leading = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  let cursor: FeedCursor = FEED_START;
  let handled = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  function lose(reason: string): void {
    if (!leading) return;
    leading = false;
    options.detection.setActive(false);
    logger.warn({ reason }, 'no longer the correlation leader');
    options.onChange?.(false);
    wake?.();
  }

  let attempting = false;
  /** One try at a time: two on one connection would both get the (re-entrant) lock and both lead. */
  async function attempt(): Promise<void> {
    if (stopped || leading || attempting) return;
    attempting = true;
    try {
      if (!client) {
        // A multi-host storage.url (a primary and standbys): the lock lives on the read-write one.
        const c = new pg.Client({ connectionString: await primaryUrl(options.url) });
        c.on('error', (error) => {
          if (client === c) client = undefined;
          lose(error.message);
          void c.end().catch(() => undefined);
        });
        c.on('end', () => {
          if (client === c) client = undefined;
          lose('connection ended');
        });
        await c.connect();
        if (stopped) {
          await c.end();
          return;
        }
        if (options.idleSessionMs)
          await limitIdleSession(c, options.idleSessionMs, logger).catch(async (error: unknown) => {
            await c.end().catch(() => undefined); // not kept: the next try opens another
            throw error;
          });
        client = c;
      }
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
        LEADER_LOCK_KEY,
      ]);
      if (!rows[0]?.ok || stopped) return;
      leading = true;
      logger.info('this node is the correlation leader');
      options.onChange?.(true);
      running = lead(client).catch((error: Error) => {
        logger.error({ err: error.message }, 'correlation leader failed');
        // Give the lock back (by closing its connection): another node, or this one, takes over.
        const c = client;
        client = undefined;
        lose(error.message);
        void c?.end().catch(() => undefined);
      });
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'cannot try the leader lock');
    } finally {
      attempting = false;
    }
  }

  async function lead(db: pg.Client): Promise<void> {
    const q = {
      query: async <T>(text: string, params: readonly unknown[] = []) => {
        const r = await db.query(text, [...params]);
        return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
      },
      exec: async (script: string) => {
        await db.query(script);
      },
    };
    await options.detection.reset();
    cursor = (await loadCursor(q, CURSOR_NAME)) ?? FEED_START;
    // Reopen the previous leader's windows: replay what it had handled within the longest timespan.
    const spanMs = options.detection.maxTimespanMs();
    if (spanMs > 0 && cursor.id > 0) {
      const since = new Date(Date.now() - spanMs - 60_000);
      const entries = await readFeedBefore(q, cursor, since, REPLAY_MAX_ROWS);
      let events = 0;
      for (const entry of entries) {
        const batch = await feedEvents(q, entry, !options.detection.hasRules());
        events += batch.length;
        await options.detection.replay(batch);
      }
      logger.info({ rows: entries.length, events }, 'correlation windows replayed from the event feed');
    }
    options.detection.setActive(true);
    let pruned = Date.now();
    while (leading && !stopped) {
      const page = await readFeed(q, cursor, PAGE_ROWS);
      for (const entry of page) {
        if (!leading) return;
        const events = await feedEvents(q, entry, !options.detection.hasRules());
        const raised = await options.detection.consume(events);
        cursor = { xid: entry.xid, id: entry.id };
        handled += 1;
        if (raised > 0) await saveCursor(q, CURSOR_NAME, cursor, options.node);
      }
      if (page.length > 0) await saveCursor(q, CURSOR_NAME, cursor, options.node);
      if (Date.now() - pruned > PRUNE_EVERY_MS) {
        pruned = Date.now();
        const keepMs = Math.max(options.retentionMs, spanMs + 60_000);
        await pruneFeed(q, cursor, new Date(Date.now() - keepMs));
      }
      if (page.length < PAGE_ROWS) await sleep(options.pollMs);
    }
  }

  return {
    start(): void {
      void attempt();
      timer = setInterval(() => void attempt(), options.tryEveryMs);
      timer.unref();
    },
    isLeader: () => leading,
    /** Feed rows this node handled as leader, and where it is. */
    stats: () => ({ leader: leading, handled, cursor }),
    /** Reads the feed now instead of at the next poll. */
    poke(): void {
      wake?.();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      lose('stopping');
      await running;
      const c = client;
      client = undefined;
      // Ending the session releases the advisory lock.
      await c?.end().catch(() => undefined);
    },
  };
}

export type Leader = ReturnType<typeof createLeader>;

const UNDEFINED_OBJECT = '42704';

/** `idle_session_timeout` for this session (PostgreSQL 14 and later; older servers: a warning, no limit). */
async function limitIdleSession(c: pg.Client, ms: number, logger: Logger): Promise<void> {
  try {
    await c.query("SELECT set_config('idle_session_timeout', $1, false)", [`${Math.round(ms)}ms`]);
  } catch (error) {
    if ((error as { code?: string }).code !== UNDEFINED_OBJECT) throw error;
    logger.warn(
      'PostgreSQL before 14 has no idle_session_timeout: a hung leader keeps the lead until its connection drops',
    );
  }
}
