/**
 * A central node that hangs (a paused VM, a stopped process) keeps its PostgreSQL sessions open,
 * and PostgreSQL keeps what they hold: the rows and the event feed's lock of a transaction it
 * was in, the correlation leader's lock. Without a limit the other nodes wait for as long as the
 * hung node's connections live, which with a paused VM can be hours: every node's inserts stop
 * (each takes the feed lock) and no node runs central's correlations. Central now bounds both:
 * its pooled connections end after `storage.stalled_session_secs` idle inside a transaction
 * (idle_in_transaction_session_timeout); a COPY left waiting for the hung node's data, which
 * PostgreSQL neither counts as idle nor times out, is ended by the node whose insert its rows
 * hold up (stalled-copies.ts); and the leader's own connection ends after
 * `cluster.node_timeout_secs` without a query (idle_session_timeout), so another node leads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import pg from 'pg';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { recordFeed } from '../../central/cluster/feed.ts';
import { createStore, RowsHeldError } from '../../central/store/index.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { type ServerProcess, startCentralProcess } from '../soak/processes.ts';
import { freePort, skipUnmet, waitFor } from '../support/env.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { makeEvent } from '../central/store/fixtures.ts';

describe('a hung central node', () => {
  let db: TempDatabase | undefined;
  let client: pg.Pool;
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async (t) => {
    db = await requirePostgres(t as never);
    if (db) {
      client = new pg.Pool({ connectionString: db.url, max: 2 });
      client.on('error', () => undefined); // an idle connection's error; the next query reconnects
    }
  });
  // Each test's nodes end with it: a node left open would sweep the next test's stuck COPY.
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  after(async () => {
    await client?.end();
    await db?.drop();
  });

  const stored = async (gateway: string) =>
    (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE gateway = $1', [gateway]))
      .rows[0]!.n;

  it('inside its insert holds up the other nodes for storage.stalled_session_secs at most', async (t) => {
    if (!db) return skipUnmet(t);
    const storage = { type: 'postgres' as const, url: db.url, lock_wait_secs: 0.3, stalled_session_secs: 2 };
    const ts = new Date().toISOString();
    const batch = (gateway: string): Event[] =>
      [1, 2, 3].map((seq) => makeEvent(gateway, seq, ts, { message: `${gateway} ${seq}` }));

    // Node A writes its rows and its feed row (taking the feed lock, as in cluster mode), then
    // hangs: its transaction stays open, idle, until `release()`.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const feedLocked = new Promise<void>((resolve) => (locked = resolve));
    const nodeA = await createStore(storage, {
      onInserted: async (tx, rows) => {
        await recordFeed(tx, 'node-a', rows);
        locked();
        await released;
      },
    });
    cleanups.push(() => nodeA.close());
    cleanups.push(async () => release());
    const nodeB = await createStore(storage, { onInserted: (tx, rows) => recordFeed(tx, 'node-b', rows) });
    cleanups.push(() => nodeB.close());
    await nodeA.init(new Date());
    await nodeB.init(new Date());

    const hungWrite = nodeA.insertEvents(batch('gw-a'));
    hungWrite.catch(() => undefined); // awaited below
    await feedLocked;

    // Node B stores another gateway's batch as central does with a held one: again a moment later.
    const started = Date.now();
    let held = 0;
    const result = await waitFor(
      async () => {
        try {
          return await nodeB.insertEvents(batch('gw-b'));
        } catch (error) {
          if (!(error instanceof RowsHeldError)) throw error;
          held += 1;
          return undefined;
        }
      },
      { what: "node B's insert while node A hangs", timeoutMs: 20_000, intervalMs: 200 },
    );
    const tookMs = Date.now() - started;
    t.diagnostic(`node B stored its batch after ${tookMs} ms, held ${held} times meanwhile`);
    assert.equal(result.inserted, 3);
    assert.ok(held >= 1, 'node A held the feed lock: node B had to wait');
    assert.ok(tookMs < 10_000, `node B waited ${tookMs} ms`);

    // Node A wakes: its session was ended, so its batch was not stored (its gateway sends it
    // again, to whichever node), and stored once when it is.
    release();
    await assert.rejects(hungWrite, /idle-in-transaction|terminat|Connection/i);
    assert.equal(await stored('gw-a'), 0, "node A's rows went with its transaction");
    assert.deepEqual(await nodeA.insertEvents(batch('gw-a')), { inserted: 3, duplicates: 0 });
    assert.equal(await stored('gw-a'), 3);
    assert.equal(await stored('gw-b'), 3);
    const { rows } = await client.query<{ node: string }>('SELECT node FROM event_feed ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.node),
      ['node-b', 'node-a'],
      'one feed row per stored batch, none of the ended transaction',
    );
  });

  /**
   * Node A reaches PostgreSQL through a proxy that stops passing anything on, both ways, once 1 MB
   * went towards the server: A's COPY of a large batch stops in the middle, its session waiting
   * for data as a hung node's does (neither idle nor timed out by PostgreSQL). Node B is well.
   */
  async function copyStuckInNodeA(warnings: string[]) {
    const target = new URL(db!.url);
    const proxy = await startTcpProxy(
      { host: target.hostname, port: Number(target.port) },
      { freezeAfterBytes: 1_000_000 },
    );
    const storage = { lock_wait_secs: 0.3, stalled_session_secs: 2 };
    const nodeA = await createStore({ type: 'postgres', url: proxy.via(db!.url), ...storage });
    cleanups.push(() => nodeA.close().catch(() => undefined));
    // Before A's close (cleanups run last first), which waits for its stuck connection: a backend
    // stuck in a COPY also holds up every CREATE and DROP DATABASE of the server (it takes no
    // ProcSignalBarrier while it waits for its client), the other test files' included.
    cleanups.push(() => proxy.close());
    const nodeB = await createStore(
      { type: 'postgres', url: db!.url, ...storage },
      { onWarning: (message) => warnings.push(message) },
    );
    cleanups.push(() => nodeB.close());
    await nodeB.init(new Date());
    await nodeA.init(new Date());

    const ts = new Date().toISOString();
    const filler = 'x'.repeat(1000);
    const batch = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent('gw-copy', i + 1, ts, { message: `copy ${i + 1} ${filler}` }),
    );
    const hungWrite = nodeA.insertEvents(batch);
    hungWrite.catch(() => undefined); // awaited by the tests
    await waitFor(async () => (proxy.frozen && (await stuckCopies()) === 1 ? true : undefined), {
      what: "node A's COPY stopped in the middle",
    });
    return { nodeB, batch, hungWrite };
  }

  const stuckCopies = async () =>
    (
      await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'COPY events %'
            AND state = 'active' AND wait_event = 'ClientRead'`,
      )
    ).rows[0]!.n;

  it('in the middle of a COPY is ended after storage.stalled_session_secs, and the node its rows held up stores them', async (t) => {
    if (!db) return skipUnmet(t);
    const warnings: string[] = [];
    const { nodeB, batch, hungWrite } = await copyStuckInNodeA(warnings);

    // The gateway, moved to node B, sends the same batch there: held, then stored once A's
    // COPY has waited stalled_session_secs and B ended it.
    const started = Date.now();
    let held = 0;
    const result = await waitFor(
      async () => {
        try {
          return await nodeB.insertEvents(batch);
        } catch (error) {
          if (!(error instanceof RowsHeldError)) throw error;
          held += 1;
          return undefined;
        }
      },
      { what: "node B's insert of the batch node A is stuck in", timeoutMs: 20_000, intervalMs: 200 },
    );
    t.diagnostic(
      `node B stored the batch after ${Date.now() - started} ms, held ${held} times; ${warnings[0]}`,
    );
    assert.deepEqual(result, { inserted: 10_000, duplicates: 0 });
    assert.ok(held >= 1, "node A's COPY held the rows: node B had to wait");
    assert.match(warnings.join('\n'), /ended 1 central connection\(s\) whose COPY had waited/);
    assert.equal(await stored('gw-copy'), 10_000);
    await assert.rejects(hungWrite, 'node A learns its write failed');
  });

  it('in the middle of a COPY is ended by a well node even when no insert waits for its rows', async (t) => {
    if (!db) return skipUnmet(t);
    // Its gateway has not moved yet, so no node's insert finds the rows held; but the stuck
    // backend holds up every CREATE and DROP DATABASE of the server, other tenants' included.
    const warnings: string[] = [];
    const { hungWrite } = await copyStuckInNodeA(warnings);
    const frozenAt = Date.now();
    await waitFor(async () => ((await stuckCopies()) === 0 ? true : undefined), {
      what: "node A's stuck COPY ended by node B, which inserts nothing",
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    t.diagnostic(`ended ${Date.now() - frozenAt} ms after it stopped; ${warnings[0]}`);
    assert.match(warnings.join('\n'), /ended 1 central connection\(s\) whose COPY had waited/);
    await assert.rejects(hungWrite, 'node A learns its write failed');
    // And the server's database DDL goes on.
    const name = `hung_ddl_${process.pid}`;
    await client.query(`CREATE DATABASE ${name}`);
    await client.query(`DROP DATABASE ${name}`);
  });

  it('as the correlation leader hands the lead to another node after cluster.node_timeout_secs', async (t) => {
    if (!db) return skipUnmet(t);
    const work = mkdtempSync(path.join(tmpdir(), 'siem-hung-'));
    cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
    const nodes: Record<string, ServerProcess> = {};
    const configFile = async (node: string) => {
      const file = path.join(work, `${node}.yaml`);
      writeFileSync(
        file,
        [
          `http: { listen: "127.0.0.1:${await freePort()}" }`,
          `storage: { type: postgres, url: "${db!.url}" }`,
          `api: { tokens: [{ name: test, token_sha256: ${sha256Hex(newToken())} }] }`,
          `cluster: { enabled: true, node_id: ${node}, heartbeat_interval_secs: 0.5, node_timeout_secs: 2, feed_poll_interval_ms: 100 }`,
          'log: { level: warn }',
        ].join('\n'),
      );
      return file;
    };
    const start = async (node: string) => {
      nodes[node] = await startCentralProcess(await configFile(node));
      cleanups.push(async () => {
        nodes[node]!.child.kill('SIGCONT'); // a stopped process takes no SIGTERM
        await nodes[node]!.stop(10_000);
      });
    };
    /** The leader by fresh heartbeat rows (a hung node's row says leader until it goes stale). */
    const fresh = async () =>
      (
        await client.query<{ node: string; leader: boolean }>(
          "SELECT node, leader FROM cluster_nodes WHERE heartbeat_at > now() - interval '1.5 seconds' ORDER BY node",
        )
      ).rows;
    const leaderIs = (node: string) => async () =>
      (await fresh()).some((r) => r.node === node && r.leader) ? true : undefined;

    await start('node-a');
    await waitFor(leaderIs('node-a'), { what: 'node-a to lead', timeoutMs: 60_000 });
    await start('node-b');
    await waitFor(async () => ((await fresh()).length === 2 ? true : undefined), {
      what: 'both nodes beating',
      timeoutMs: 60_000,
    });

    nodes['node-a']!.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await waitFor(leaderIs('node-b'), { what: 'node-b to lead while node-a hangs', timeoutMs: 30_000 });
    t.diagnostic(`node-b leads ${Date.now() - stoppedAt} ms after node-a stopped`);

    // node-a wakes: it finds its session ended and follows; one leader.
    nodes['node-a']!.child.kill('SIGCONT');
    await waitFor(
      async () => {
        const rows = await fresh();
        return rows.length === 2 && rows.every((r) => r.leader === (r.node === 'node-b')) ? rows : undefined;
      },
      { what: 'node-a back as a follower, node-b leading', timeoutMs: 30_000 },
    );
    // And it stays so: node-a does not take the lock back while node-b holds it.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(await fresh(), [
      { node: 'node-a', leader: false },
      { node: 'node-b', leader: true },
    ]);
  });
});
