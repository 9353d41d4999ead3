/**
 * One central on a fresh PostgreSQL database for a test file or suite: `centralOnPostgres()`
 * registers the `before` hook that creates both (or records the skip when PostgreSQL is missing)
 * and the `after` hook that stops central and drops the database. The store-and-forward and
 * edge-detection tests take the WAN link down by stopping central and bring it back with
 * `restart()`: the same port (so the gateways' configured endpoint works again), the same
 * database and the same enrolled gateway key.
 */
import { after, before } from 'node:test';
import { requirePostgres, type TempDatabase } from './postgres.ts';
import { startTestCentral, type TestCentral } from './stack.ts';

export interface CentralOnPostgres {
  /** The database; undefined when PostgreSQL is missing: the tests then call `skipUnmet(t)`. */
  readonly db: TempDatabase | undefined;
  /** The central running now (set once `db` is). */
  readonly c: TestCentral;
  /** Stops central and remembers its port for `restart`: the link is down. */
  stop(): Promise<void>;
  /** Central again on the stopped one's port, database and gateway key: the link is back. */
  restart(): Promise<TestCentral>;
}

export function centralOnPostgres(): CentralOnPostgres {
  let db: TempDatabase | undefined;
  let c: TestCentral | undefined;
  let port: string | undefined;
  const running = (): TestCentral => {
    if (!c) throw new Error('central is not started (no PostgreSQL: the test must skipUnmet first)');
    return c;
  };
  before(async (t) => {
    db = await requirePostgres(t as never);
    if (db) c = await startTestCentral({ type: 'postgres', url: db.url });
  });
  after(async () => {
    await c?.central.stop();
    await db?.drop();
  });
  return {
    get db() {
      return db;
    },
    get c() {
      return running();
    },
    async stop() {
      const current = running();
      port = new URL(current.central.url()).port;
      await current.central.stop();
    },
    async restart() {
      const stopped = running();
      if (!db || port === undefined) throw new Error('restart() needs a stop() first');
      c = await startTestCentral(
        { type: 'postgres', url: db.url },
        { listen: `127.0.0.1:${port}`, privateKey: stopped.privateKey },
      );
      return c;
    },
  };
}
