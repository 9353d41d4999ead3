/**
 * The server adapter: a `pg` connection pool to PostgreSQL (`DATABASE_URL`). Several central
 * nodes may share one database; DDL is serialised by an advisory lock (sql-client.ts). A
 * connection string with several hosts and `target_session_attrs=read-write` follows the primary
 * through a failover (pg-failover.ts).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createFailoverPool, planConnections, type PgTarget } from './pg-failover.ts';
import type { SqlClient, SqlExecutor } from './sql-client.ts';
import { createSqlStore, DEFAULT_STALLED_SESSION_MS, type SqlStoreOptions } from './sql-store.ts';
import type { EventStore } from './types.ts';

export interface PostgresStoreOptions extends SqlStoreOptions {
  /**
   * `postgres://user:password@host:port/database`; several hosts (`host1:5432,host2:5432`, or
   * libpq's `host=a,b port=x,y …`) with `target_session_attrs=read-write` for a primary and standbys.
   */
  connectionString: string;
  /** Connections in the pool; default 10. */
  poolMax?: number;
  /** Told about errors of idle pooled connections (the server restarted, a network cut), for logs and metrics. */
  onError?: (error: Error) => void;
  /** New connections went to another host (a failover of the database), for logs. */
  onHostSwitch?: (to: PgTarget, why: string) => void;
}

function executor(db: pg.Pool | pg.PoolClient): SqlExecutor {
  const conn = db instanceof pg.Pool ? undefined : db;
  return {
    // COPY needs one connection: only a transaction's executor has it.
    ...(conn && {
      async copyFrom(statement: string, chunks: Iterable<Uint8Array>) {
        await pipeline(Readable.from(chunks), conn.query(copyFrom(statement)));
      },
    }),
    async query<T>(text: string, params: readonly unknown[] = []) {
      const result = await db.query(text, [...params]);
      return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
    },
    async exec(script: string) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await db.query(script);
    },
  };
}

export function createPostgresClient(pool: pg.Pool, onError?: (error: Error) => void): SqlClient {
  let ended = false;
  return {
    adapter: 'postgres',
    ...executor(pool),
    async transaction(fn) {
      const conn = await pool.connect();
      // A checked-out client has no error listener of the pool's: a connection that dies under a
      // transaction (server crash, failover) would emit 'error' with nobody listening, which
      // kills the process. The statement in progress fails on its own; this only takes the event.
      let lost: Error | undefined;
      const onLost = (error: Error) => {
        lost = error;
        onError?.(error);
      };
      conn.on('error', onLost);
      try {
        await conn.query('BEGIN');
        const result = await fn(executor(conn));
        await conn.query('COMMIT');
        conn.off('error', onLost);
        conn.release();
        return result;
      } catch (error) {
        try {
          if (lost) throw lost;
          await conn.query('ROLLBACK');
          conn.off('error', onLost);
          conn.release();
        } catch (rollbackError) {
          // The connection is in an unknown state: destroy it rather than return it to the pool.
          conn.release(rollbackError as Error);
        }
        throw error;
      }
    },
    async close() {
      if (ended) return;
      ended = true;
      await pool.end();
    },
  };
}

/** Where a connection string points, without its password, for error messages. */
function describeTarget(connectionString: string): string {
  try {
    const plan = planConnections(connectionString);
    const path = new URL(plan.urls[0]!).pathname;
    return `${plan.targets.map((t) => `${t.host}:${t.port}`).join(',')}${path}`;
  } catch {
    return 'the configured server';
  }
}

/** Connects (failing fast when the server is unreachable); call `init(now)` on the store before using it. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<EventStore> {
  let pool: pg.Pool;
  try {
    pool = createFailoverPool({
      connectionString: options.connectionString,
      max: options.poolMax ?? 10,
      // A node hung mid-write frees its rows and the event feed's lock (docs/high-availability.md).
      idleInTransactionMs: options.stalledSessionMs ?? DEFAULT_STALLED_SESSION_MS,
      onSwitch: options.onHostSwitch,
    });
  } catch (error) {
    throw new Error(`storage.url: ${(error as Error).message}`);
  }
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', (error) => options.onError?.(error));
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw new Error(
      `cannot connect to PostgreSQL at ${describeTarget(options.connectionString)}: ${(error as Error).message}`,
    );
  }
  if (planConnections(options.connectionString).targets.length > 1)
    await checkSynchronousCommit(pool, options.onWarning);
  return createSqlStore(createPostgresClient(pool, options.onError), options);
}

/**
 * Several hosts mean a failover is planned for; then "central acked it" must mean "a standby has
 * it": COMMIT has to wait for a synchronous standby (docs/high-availability.md). Checked once at
 * start, as the session sees it; a warning, not an error, since a lone primary still works.
 */
async function checkSynchronousCommit(pool: pg.Pool, warn: ((message: string) => void) | undefined) {
  const { rows } = await pool.query<{ names: string; sync: string }>(
    "SELECT current_setting('synchronous_standby_names') AS names, current_setting('synchronous_commit') AS sync",
  );
  const { names = '', sync = 'on' } = rows[0] ?? {};
  if (names.trim() === '')
    warn?.(
      'storage.url names several PostgreSQL servers, but the primary has no synchronous standby (synchronous_standby_names is empty): events acked just before a failover can be lost (docs/high-availability.md)',
    );
  else if (sync === 'off' || sync === 'local')
    warn?.(
      `storage.url names several PostgreSQL servers, but synchronous_commit is ${sync}: a COMMIT does not wait for the standby, so events acked just before a failover can be lost (docs/high-availability.md)`,
    );
}
