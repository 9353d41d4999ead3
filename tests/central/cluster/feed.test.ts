/**
 * The event feed of several central nodes (central/cluster/feed.ts, migration 016) on a real
 * PostgreSQL: every insert writes its feed row in its own transaction, ids in commit order (an
 * insert behind one still committing waits for it), so a cursor never skips a late row; the events a row names come back in its order (only the gateways'
 * alerts when asked); handled rows are pruned; nothing is written without `onInserted`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  FEED_LOCK_KEY,
  FEED_START,
  feedEvents,
  pruneFeed,
  readFeed,
  recordFeed,
} from '../../../central/cluster/feed.ts';
import { createPostgresStore } from '../../../central/store/index.ts';
import type { EventStore } from '../../../central/store/types.ts';
import { skipUnmet, waitFor } from '../../support/env.ts';
import { requirePostgres, type TempDatabase } from '../../support/postgres.ts';
import { makeEvent } from '../store/fixtures.ts';

describe('the event feed on PostgreSQL', () => {
  let db: TempDatabase | undefined;
  let store: EventStore;
  let plain: EventStore;
  let client: pg.Client;
  let probe: pg.Client;
  const now = Date.now();
  const ts = (i: number) => new Date(now - 60_000 + i * 10).toISOString();

  before(async (t) => {
    db = await requirePostgres(t as never);
    if (!db) return;
    store = await createPostgresStore({
      connectionString: db.url,
      onInserted: (tx, rows) => recordFeed(tx, 'node-t', rows),
    });
    await store.init(new Date());
    plain = await createPostgresStore({ connectionString: db.url });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
  });
  after(async () => {
    await client?.end();
    await probe?.end();
    await store?.close();
    await plain?.close();
    await db?.drop();
  });

  it('names each insert, in the order the inserts commit: one committing late holds back those after it', async (t) => {
    if (!db) return skipUnmet(t);
    await store.insertEvents([makeEvent('gw-f', 1, ts(1)), makeEvent('gw-f', 2, ts(2))]);
    // Another node's insert, between its feed row and its commit (what recordFeed does last).
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [FEED_LOCK_KEY]);
    await client.query(
      `INSERT INTO event_feed (node, gateways, seqs, ts_min, ts_max) VALUES ('late', '{gw-late}', '{1}', now(), now())`,
    );
    // This node's next insert waits for it, rather than committing a row a reader would see first.
    const younger = store.insertEvents([makeEvent('gw-f', 3, ts(3))]);
    await waitFor(async () => {
      const { rows } = await probe.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      );
      return rows[0]!.n > 0 ? true : undefined;
    });
    assert.deepEqual(
      (await readFeed(store.sql, FEED_START, 100)).map((e) => e.seqs),
      [[1, 2]],
      'nothing uncommitted is read',
    );
    await client.query('COMMIT');
    await younger;
    const all = await readFeed(store.sql, FEED_START, 100);
    assert.deepEqual(
      all.map((e) => [e.node, e.gateways, e.seqs]),
      [
        ['node-t', ['gw-f', 'gw-f'], [1, 2]],
        ['late', ['gw-late'], [1]],
        ['node-t', ['gw-f'], [3]],
      ],
    );
    // From a cursor: only what follows it.
    assert.deepEqual(
      (await readFeed(store.sql, all[1]!, 100)).map((e) => e.seqs),
      [[3]],
    );
    await client.query('DELETE FROM event_feed WHERE node = $1', ['late']);
  });

  it('gives back the events a row names, in its order, or only the alerts', async (t) => {
    if (!db) return skipUnmet(t);
    const batch = [
      makeEvent('gw-g', 3, ts(30)),
      makeEvent('gw-g', 1, ts(10)),
      makeEvent('gw-g', 2, ts(20), {
        kind: 'alert',
        source: 'gateway',
        action: 'alert.raised',
        message: 'edge alert',
      }),
    ];
    await store.insertEvents(batch);
    const rows = await readFeed(store.sql, FEED_START, 100);
    const entry = rows.find((r) => r.gateways[0] === 'gw-g')!;
    // The store sorts a batch by gateway and seq before it stores it.
    assert.deepEqual(entry.seqs, [1, 2, 3]);
    assert.deepEqual(
      (await feedEvents(store.sql, entry)).map((e) => e.id),
      ['gw-g:1', 'gw-g:2', 'gw-g:3'],
    );
    assert.deepEqual(
      (await feedEvents(store.sql, entry, true)).map((e) => e.id),
      ['gw-g:2'],
    );
    // A re-sent batch stores nothing and writes no row.
    const count = async () =>
      (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM event_feed')).rows[0]!.n;
    const n = await count();
    assert.deepEqual(await store.insertEvents(batch), { inserted: 0, duplicates: 3 });
    assert.equal(await count(), n);
    // A store without onInserted (a single node) writes none either.
    await plain.insertEvents([makeEvent('gw-h', 1, ts(40))]);
    assert.equal(await count(), n);
  });

  it('prunes handled rows older than the retention, never those after the cursor', async (t) => {
    if (!db) return skipUnmet(t);
    const rows = await readFeed(store.sql, FEED_START, 100);
    assert.ok(rows.length >= 3);
    const cursor = rows[1]!;
    assert.equal(await pruneFeed(store.sql, cursor, new Date(Date.now() - 3_600_000)), 0, 'all younger');
    assert.equal(await pruneFeed(store.sql, cursor, new Date(Date.now() + 60_000)), 2);
    assert.deepEqual(
      (await readFeed(store.sql, FEED_START, 100)).map((r) => r.id),
      rows.slice(2).map((r) => r.id),
    );
  });
});
