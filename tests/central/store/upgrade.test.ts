/**
 * Upgrading a database from before issue 18 (migrations up to 011, daily partitions, the trigram
 * index) on both adapters: events stored then stay, migrations 012 and 019 swap the indexes, the
 * closed days get their B-trees and word index from the store, and text search finds the old
 * events by words.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import { loadMigrations, migrate } from '../../../central/store/migrate.ts';
import { createDailyPartitions, partitionName } from '../../../central/store/partitions.ts';
import { createPgliteClient } from '../../../central/store/pglite.ts';
import { createPostgresClient } from '../../../central/store/postgres.ts';
import type { SqlClient } from '../../../central/store/sql-client.ts';
import { createSqlStore } from '../../../central/store/sql-store.ts';
import { requirePostgres } from '../../support/postgres.ts';
import { iso, makeEvent, startOfUtcDay, uniqueGateway } from './fixtures.ts';

const DAY_MS = 86_400_000;

async function upgrade(client: SqlClient): Promise<void> {
  const now = new Date();
  const day = startOfUtcDay(now) - 2 * DAY_MS;
  await migrate(
    client,
    (await loadMigrations()).filter((m) => m.version <= 11),
  );
  await createDailyPartitions(client, [day]);
  const old = createSqlStore(client, { indexIntervalMs: 0 });
  const gateway = uniqueGateway('upgrade');
  const messages = ['Failed password for root from 10.0.3.77', 'Failed passwords', 'link up on plc-70'];
  // Stored before the upgrade, through the same insert path.
  await old.insertEvents(
    messages.map((message, i) => makeEvent(gateway, i + 1, iso(day + 3_600_000 + i), { message })),
  );
  const indexes = async () =>
    (
      await client.query<{ name: string }>(
        `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'events' ORDER BY 1`,
      )
    ).rows.map((r) => r.name);
  assert.ok((await indexes()).includes('events_message_trgm_idx'));

  const store = createSqlStore(client, { indexIntervalMs: 0 });
  await store.init(now);
  // Migration 019: two B-trees of 001 leave the open hour for the closed partitions.
  assert.deepEqual(await indexes(), [
    'events_gateway_seq_ts_key',
    'events_host_ts_idx',
    'events_received_brin',
    'events_ts_brin',
  ]);
  const seqs = async (text: string) =>
    (await store.queryEvents({ gateway, text, limit: 10 })).events.map((e) => e.seq).sort();
  const check = async () => {
    assert.deepEqual(await seqs('failed password'), [1]);
    assert.deepEqual(await seqs('10.0.3.77'), [1]);
    assert.deepEqual(await seqs('plc-7'), []);
    assert.deepEqual(await seqs('plc-70'), [3]);
  };
  await check();
  const created = await store.indexClosedPartitions(now);
  for (const suffix of ['ts', 'device', 'words', 'action']) {
    assert.ok(created.includes(`${partitionName(day)}_${suffix}`), created.join(', '));
  }
  await check();
  assert.deepEqual(await store.indexClosedPartitions(now), [], 'built once');
}

describe('upgrade from before issue 18', () => {
  it('PGlite', async () => {
    const db = await PGlite.create({ extensions: { pg_trgm } });
    const client = createPgliteClient(db);
    try {
      await upgrade(client);
    } finally {
      await client.close();
    }
  });

  it('PostgreSQL', async (t) => {
    const db = await requirePostgres(t);
    if (!db) return;
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      await upgrade(createPostgresClient(pool));
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
