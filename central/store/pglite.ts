/**
 * The embedded adapter: PostgreSQL compiled to WebAssembly (PGlite), in memory or in a data
 * directory, so `npm start` needs no database server (DESIGN.md "Storage"). Starting it takes
 * seconds and hundreds of MB, so one instance serves the whole process.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { SqlClient, SqlExecutor } from './sql-client.ts';
import { createSqlStore, type SqlStoreOptions } from './sql-store.ts';
import type { EventStore } from './types.ts';

export interface PgliteStoreOptions extends SqlStoreOptions {
  /** Directory holding the database files; undefined keeps everything in memory. */
  dataDir?: string;
}

function executor(db: PGlite | Transaction): SqlExecutor {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const result = await db.query<T>(text, [...params]);
      return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
    },
    async exec(script: string) {
      await db.exec(script);
    },
  };
}

export function createPgliteClient(db: PGlite): SqlClient {
  return {
    adapter: 'pglite',
    ...executor(db),
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    async close() {
      if (!db.closed) await db.close();
    },
  };
}

/**
 * The test run's template (tests/run.ts): an in-memory database dumped after its migrations, which
 * an in-memory store starts from instead of running initdb (about 1.7 s instead of 5 s each;
 * `init` still applies whatever migration it lacks).
 */
export const PGLITE_TEMPLATE_ENV = 'SIEM_PGLITE_TEMPLATE';

/** Opens (or creates) the database; call `init(now)` on the store before using it. */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<EventStore> {
  const template = options.dataDir === undefined ? process.env[PGLITE_TEMPLATE_ENV] : undefined;
  // pg_trgm backs the free-text index of migration 004, as on a PostgreSQL server.
  const db = await PGlite.create({
    dataDir: options.dataDir,
    extensions: { pg_trgm },
    ...(template && { loadDataDir: new Blob([readFileSync(template)]) }),
  });
  return createSqlStore(createPgliteClient(db), options);
}

/** Writes the template of PGLITE_TEMPLATE_ENV to `file`: a migrated in-memory database. */
export async function writePgliteTemplate(file: string): Promise<void> {
  const db = await PGlite.create({ extensions: { pg_trgm } });
  const store = createSqlStore(createPgliteClient(db));
  await store.init(new Date());
  const dump = await db.dumpDataDir('none');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await store.close();
}
