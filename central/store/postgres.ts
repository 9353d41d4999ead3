/**
 * The server adapter: a `pg` connection pool to PostgreSQL (`DATABASE_URL`). Several central
 * nodes may share one database; DDL is serialised by an advisory lock (sql-client.ts).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SqlClient, SqlExecutor } from './sql-client.ts';
import { createSqlStore, type SqlStoreOptions } from './sql-store.ts';
import type { EventStore } from './types.ts';

export interface PostgresStoreOptions extends SqlStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string;
  /** Connections in the pool; default 10. */
  poolMax?: number;
  /** Told about errors of idle pooled connections (the server restarted, a network cut), for logs and metrics. */
  onError?: (error: Error) => void;
}

function executor(db: pg.Pool | pg.PoolClient): SqlExecutor {
  const conn = db instanceof pg.Pool ? undefined : db;
  return {
    // COPY needs one connection: only a transaction's executor has it.
    ...(conn && {
      async copyFrom(statement: string, chunks: Iterable<string>) {
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

export function createPostgresClient(pool: pg.Pool): SqlClient {
  let ended = false;
  return {
    adapter: 'postgres',
    ...executor(pool),
    async transaction(fn) {
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
        const result = await fn(executor(conn));
        await conn.query('COMMIT');
        conn.release();
        return result;
      } catch (error) {
        try {
          await conn.query('ROLLBACK');
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
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/** Connects (failing fast when the server is unreachable); call `init(now)` on the store before using it. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<EventStore> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolMax ?? 10 });
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
  return createSqlStore(createPostgresClient(pool), options);
}
