/**
 * Multi-host connection strings (central/store/pg-failover.ts): both libpq forms are read into one
 * URL per host for node-postgres; target_session_attrs and connect_timeout are taken out, other
 * parameters kept; bad strings are refused with a message. Then, on the local PostgreSQL (one
 * server, so a closed port stands in for a dead host): the pool skips a host that refuses and
 * reaches the one that answers, whichever order they are in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { connectPrimary, createFailoverPool, planConnections } from '../../../central/store/pg-failover.ts';
import { createPostgresStore } from '../../../central/store/postgres.ts';
import { freePort, skipUnmet } from '../../support/env.ts';
import { requirePostgres, type TempDatabase } from '../../support/postgres.ts';

describe('planConnections', () => {
  it('one host, URL form: the URL as it was', () => {
    const plan = planConnections('postgres://u:p%40ss@db.example:6543/siem?sslmode=require');
    assert.deepEqual(plan.urls, ['postgres://u:p%40ss@db.example:6543/siem?sslmode=require']);
    assert.equal(plan.readWrite, false);
  });

  it('several hosts, URL form, with target_session_attrs and connect_timeout', () => {
    const plan = planConnections(
      'postgresql://siem@a:5432,b:5433,[::1]/events?target_session_attrs=read-write&connect_timeout=3&application_name=central',
    );
    assert.deepEqual(plan.targets, [
      { host: 'a', port: 5432 },
      { host: 'b', port: 5433 },
      { host: '::1', port: 5432 },
    ]);
    assert.deepEqual(plan.urls, [
      'postgresql://siem@a:5432/events?application_name=central',
      'postgresql://siem@b:5433/events?application_name=central',
      'postgresql://siem@[::1]:5432/events?application_name=central',
    ]);
    assert.equal(plan.readWrite, true);
    assert.equal(plan.connectTimeoutMs, 3000);
  });

  it('keyword/value form (libpq §34.1.1.1): a port per host or one for all, quoted values', () => {
    const plan = planConnections(
      "host=10.0.0.1,10.0.0.2 port=5432,5433 dbname=siem user=central password='it\\'s x' target_session_attrs=primary sslmode=verify-full",
    );
    assert.deepEqual(plan.targets, [
      { host: '10.0.0.1', port: 5432 },
      { host: '10.0.0.2', port: 5433 },
    ]);
    assert.equal(plan.readWrite, true);
    assert.match(
      plan.urls[1]!,
      /^postgresql:\/\/central:it's%20x@10\.0\.0\.2:5433\/siem\?sslmode=verify-full$/,
    );
    const shared = planConnections("host=a,b port=6000 dbname='my db'");
    assert.deepEqual(
      shared.targets.map((t) => t.port),
      [6000, 6000],
    );
    assert.equal(new URL(shared.urls[0]!).pathname, '/my%20db');
  });

  it('refuses what it cannot follow, with a message', () => {
    assert.throws(() => planConnections('host=a,b,c port=1,2'), /a port per host/);
    assert.throws(() => planConnections('postgres://a:99999/x'), /bad host or port/);
    assert.throws(() => planConnections('postgres://a/x?target_session_attrs=standby'), /not supported/);
    assert.throws(() => planConnections("host='a"), /unterminated quote/);
    assert.throws(() => planConnections('mysql://a/x'), /neither/);
  });

  it('property: any list of hosts and ports comes back in order, one URL each', () => {
    const host = fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(host, fc.integer({ min: 1, max: 65_535 })), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (hosts, keywords) => {
          const text = keywords
            ? `host=${hosts.map(([h]) => h).join(',')} port=${hosts.map(([, p]) => p).join(',')} dbname=d target_session_attrs=read-write`
            : `postgres://u@${hosts.map(([h, p]) => `${h}:${p}`).join(',')}/d?target_session_attrs=read-write`;
          const plan = planConnections(text);
          assert.deepEqual(
            plan.targets,
            hosts.map(([h, p]) => ({ host: h, port: p })),
          );
          assert.equal(plan.urls.length, hosts.length);
          plan.urls.forEach((u, i) => {
            const url = new URL(u);
            assert.equal(url.hostname, hosts[i]![0]);
            assert.equal(url.pathname, '/d');
            assert.equal(url.searchParams.has('target_session_attrs'), false);
          });
        },
      ),
    );
  });

  it('property: arbitrary text never throws anything but an Error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          planConnections(text);
        } catch (error) {
          assert.ok(error instanceof Error);
        }
      }),
    );
  });
});

describe('failover pool on the local PostgreSQL', () => {
  let db: TempDatabase | undefined;
  before(async (t) => {
    db = await requirePostgres(t as never);
  });
  after(async () => {
    await db?.drop();
  });

  it('skips a host that refuses and reaches the read-write one, in either order', async (t) => {
    if (!db) return skipUnmet(t);
    const url = new URL(db.url);
    const dead = `127.0.0.1:${await freePort()}`;
    const live = `${url.hostname}:${url.port || 5432}`;
    for (const hosts of [`${dead},${live}`, `${live},${dead}`]) {
      const switches: string[] = [];
      const pool = createFailoverPool({
        connectionString: `postgres://${url.username}@${hosts}${url.pathname}?target_session_attrs=read-write`,
        max: 2,
        onSwitch: (to) => switches.push(`${to.host}:${to.port}`),
      });
      try {
        for (let i = 0; i < 3; i += 1) {
          const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
          assert.equal(rows[0]!.one, 1);
        }
        assert.deepEqual(switches, hosts.startsWith(dead) ? [live] : [], hosts);
      } finally {
        await pool.end();
      }
    }
    const client = await connectPrimary(
      `host=127.0.0.1,${url.hostname} port=${dead.split(':')[1]},${url.port || 5432} user=${url.username} dbname=${url.pathname.slice(1)} target_session_attrs=read-write`,
    );
    assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
    await client.end();
  });

  it('warns at start when several hosts are named but COMMIT waits for no standby', async (t) => {
    if (!db) return skipUnmet(t);
    const url = new URL(db.url);
    const live = `${url.hostname}:${url.port || 5432}`;
    const warnings: string[] = [];
    const store = await createPostgresStore({
      connectionString: `postgres://${url.username}@127.0.0.1:${await freePort()},${live}${url.pathname}?target_session_attrs=read-write`,
      onWarning: (m) => warnings.push(m),
    });
    await store.close();
    // The local server is a lone primary: no synchronous standby.
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /synchronous_standby_names is empty/);
    const single: string[] = [];
    await (await createPostgresStore({ connectionString: db.url, onWarning: (m) => single.push(m) })).close();
    assert.deepEqual(single, [], 'one host: no failover planned, nothing to say');
  });

  it('fails with every host named when none answers', async () => {
    const a = await freePort();
    const b = await freePort();
    const pool = createFailoverPool({
      connectionString: `postgres://x@127.0.0.1:${a},127.0.0.1:${b}/x?target_session_attrs=read-write`,
      max: 1,
    });
    await assert.rejects(pool.query('SELECT 1'), new RegExp(`127\\.0\\.0\\.1:${a}, 127\\.0\\.0\\.1:${b}`));
    await pool.end();
  });
});
