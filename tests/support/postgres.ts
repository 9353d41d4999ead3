/**
 * A fresh, uniquely named PostgreSQL database per test file on the local server
 * (127.0.0.1:5432, trust auth), dropped afterwards, so parallel runs never collide. When the
 * server is unreachable the test is skipped on a user's machine (the reason names the command
 * that starts it) and fails under CI=true.
 */
import { randomBytes } from 'node:crypto';
import type { SuiteContext, TestContext } from 'node:test';
import pg from 'pg';
import { IN_CI, type Missing, missingService, noteMissing, skipMissing } from './env.ts';

const ADMIN_URL = process.env.SIEM_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A temp database, or why not. `error` is in the skip-reason form (see env.ts), so a suite
 * skipped with it names the fix, and `skipUnmet` in the tests that then find no store uses it.
 */
export async function createTempDatabase(): Promise<TempDatabase | { error: string; missing: Missing }> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    const missing = missingService(
      'PostgreSQL',
      `not reachable at ${ADMIN_URL} with trust auth (${(error as Error).message})`,
    );
    return { error: noteMissing(missing), missing };
  }
  const name = `siem_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A temp database, or a skip (failure in CI) with the reason. From a suite's `before` hook the
 * skip is recorded: its tests then call `skipUnmet(t)` when there is no database.
 */
export async function requirePostgres(t: TestContext | SuiteContext): Promise<TempDatabase | undefined> {
  const db = await createTempDatabase();
  if ('url' in db) return db;
  if (IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
  skipMissing(t, db.missing);
  return undefined;
}
