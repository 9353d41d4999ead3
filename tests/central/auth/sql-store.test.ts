/**
 * Central's SQL `AuthStore` through the shared conformance suite, on PGlite (in memory) and on a
 * real PostgreSQL server (skipped locally without one, required in CI), after the real migrations.
 */
import { createPgliteStore, createPostgresStore } from '../../../central/store/index.ts';
import { createSqlAuthStore } from '../../../central/auth/sql-store.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { IN_CI } from '../../support/env.ts';
import { runAuthStoreConformance } from '../../server-shared/web-auth/store-conformance.ts';

runAuthStoreConformance('central SQL on PGlite', async () => {
  const events = await createPgliteStore();
  await events.init(new Date());
  return {
    store: createSqlAuthStore(events.sql),
    reopen: async () => createSqlAuthStore(events.sql),
    close: () => events.close(),
  };
});

runAuthStoreConformance('central SQL on PostgreSQL', async () => {
  const db = await createTempDatabase();
  if (!('url' in db)) {
    if (IN_CI) throw new Error(db.error);
    return undefined;
  }
  const events = await createPostgresStore({ connectionString: db.url });
  await events.init(new Date());
  return {
    store: createSqlAuthStore(events.sql),
    reopen: async () => createSqlAuthStore(events.sql),
    async close() {
      await events.close();
      await db.drop();
    },
  };
});
