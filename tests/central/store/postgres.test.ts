/**
 * The store conformance suite on a real PostgreSQL server (127.0.0.1:5432, trust auth; see
 * tests/support/postgres.ts). Each run works in its own freshly created database, dropped
 * afterwards, so parallel runs never collide; an unreachable server skips on a user's machine
 * and fails under CI=true. Then what only a shared server brings: several central nodes starting
 * at once, and the migration runner's guarantees.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresStore, createStore } from '../../../central/store/index.ts';
import { loadMigrations, type Migration, migrate } from '../../../central/store/migrate.ts';
import { createPostgresClient } from '../../../central/store/postgres.ts';
import { IN_CI } from '../../support/env.ts';
import { createTempDatabase, type TempDatabase } from '../../support/postgres.ts';
import { runStoreConformance } from './conformance.ts';

/** A second temp database inside a test; `undefined` never happens once the first one worked. */
async function tempDatabase(): Promise<TempDatabase> {
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  return db;
}

const shared = await createTempDatabase();

if ('error' in shared) {
  if (IN_CI) {
    it('PostgreSQL store conformance', () => {
      throw new Error(`${shared.error}; CI must start PostgreSQL (.ci/run)`);
    });
  } else {
    it('PostgreSQL store conformance', { skip: shared.error }, () => {});
  }
} else {
  after(() => shared.drop());

  runStoreConformance('postgres', ({ clock }) =>
    createPostgresStore({ connectionString: shared.url, clock, poolMax: 4 }),
  );

  describe('PostgreSQL store, several central nodes', () => {
    it('three nodes initialising one empty database at once all succeed, migrations applied once', async () => {
      const db = await tempDatabase();
      const nodes = await Promise.all(
        [1, 2, 3].map(() => createStore({ type: 'postgres', url: db.url, pool_max: 2 })),
      );
      try {
        await Promise.all(nodes.map((node) => node.init(new Date())));
        const check = new pg.Client({ connectionString: db.url });
        await check.connect();
        try {
          const { rows } = await check.query('SELECT version FROM schema_migrations ORDER BY version');
          assert.deepEqual(
            rows.map((r) => r.version),
            (await loadMigrations()).map((m) => m.version),
          );
        } finally {
          await check.end();
        }
        const lists = await Promise.all(nodes.map((node) => node.listPartitions()));
        assert.deepEqual(lists[1], lists[0]);
        assert.deepEqual(lists[2], lists[0]);
        assert.equal(lists[0]!.length, 7 + 1 + 3 + 1, 'past days, today, days ahead, DEFAULT');
      } finally {
        await Promise.all(nodes.map((node) => node.close()));
        await db.drop();
      }
    });

    it('fails fast with a message naming the server when it cannot connect', async () => {
      const url = new URL(shared.url);
      url.pathname = `${url.pathname}_missing`;
      await assert.rejects(
        createPostgresStore({ connectionString: url.toString() }),
        /cannot connect to PostgreSQL at .*_missing/,
      );
    });
  });

  describe('migration runner', () => {
    it('applies new migrations once, all-or-nothing, and refuses an edited one', async () => {
      const db = await tempDatabase();
      const client = createPostgresClient(new pg.Pool({ connectionString: db.url, max: 2 }));
      try {
        const real = await loadMigrations();
        const extra = (version: number, sql: string): Migration => ({
          version,
          name: 'probe',
          sql,
          checksum: `c${version}`,
        });
        const regclass = async (name: string) =>
          (await client.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [name])).rows[0]
            ?.r ?? null;

        assert.deepEqual(
          await migrate(client, real),
          real.map((m) => m.version),
        );
        assert.deepEqual(await migrate(client, real), []);
        assert.deepEqual(
          await migrate(client, [...real, extra(900, 'CREATE TABLE probe_900 (x int)')]),
          [900],
        );
        assert.deepEqual(await migrate(client, [...real, extra(900, 'CREATE TABLE probe_900 (x int)')]), []);

        // A failing migration rolls back the ones applied before it in the same run.
        await assert.rejects(
          migrate(client, [
            ...real,
            extra(901, 'CREATE TABLE probe_901 (x int)'),
            extra(902, 'CREATE TABLE ('),
          ]),
        );
        assert.equal(await regclass('probe_901'), null);
        const { rows } = await client.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM schema_migrations',
        );
        assert.equal(rows[0]?.n, real.length + 1);

        const edited = real.map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
        await assert.rejects(migrate(client, edited), /changed after it was applied/);
      } finally {
        await client.close();
        await db.drop();
      }
    });
  });
}
