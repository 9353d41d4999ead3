/**
 * The small SQL surface both adapters implement, so that every statement, the migrations, the
 * partition maintenance and the row mapping are written once (sql-store.ts) and PGlite and
 * PostgreSQL differ only in how they open a connection and run a transaction.
 */

export interface SqlResult<T> {
  rows: T[];
  /** Rows written by an INSERT/UPDATE/DELETE (0 for other statements). */
  rowCount: number;
}

export interface SqlExecutor {
  /** One statement with `$n` parameters; values are sent apart from the SQL text, never spliced in. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<T>>;
  /** A script of several statements without parameters (the migrations). */
  exec(script: string): Promise<void>;
  /**
   * `COPY … FROM STDIN` fed with `chunks` (COPY text format), when the adapter has it: the
   * PostgreSQL adapter inside a transaction. Absent elsewhere; callers fall back to INSERT.
   */
  copyFrom?(statement: string, chunks: Iterable<Uint8Array>): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  readonly adapter: 'pglite' | 'postgres';
  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; ROLLBACK when it throws. Resolves only
   * after COMMIT succeeded, which is what lets central ack a batch (DESIGN.md "Delivery contract").
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Key of the transaction-scoped advisory lock taken around every DDL change (migrations and
 * partition creation), so that two central nodes starting at once against one PostgreSQL
 * serialise instead of racing on CREATE TABLE. PGlite is single-process; the lock is free there.
 */
export const DDL_LOCK_KEY = '7305921748236110001';

export async function lockDdl(tx: SqlExecutor): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [DDL_LOCK_KEY]);
}

/** Quotes an identifier for the few DDL statements that cannot take parameters. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
