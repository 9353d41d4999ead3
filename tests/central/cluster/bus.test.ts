/**
 * The cluster bus's splitting of a rule push over NOTIFY payloads (central/cluster/bus.ts):
 * whatever the gateway ids, every id is sent once, in order, and every message fits the limit
 * PostgreSQL puts on a NOTIFY payload. On PostgreSQL: the stores' change notices are handed
 * over, and after the listening connection was lost the bus says notices may have been missed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { chunkGateways, createClusterBus, MAX_PAYLOAD_BYTES } from '../../../central/cluster/bus.ts';
import { createLogger } from '../../../central/log.ts';
import { TABLE_CHANGES_CHANNEL } from '../../../central/store/table-changes.ts';
import { IN_CI, waitFor } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';

const gatewayId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);

it('splits gateway ids into rules_push messages that each fit a NOTIFY payload, losing none', () => {
  fc.assert(
    fc.property(fc.array(gatewayId, { maxLength: 2000 }), (ids) => {
      const chunks = chunkGateways(ids);
      assert.deepEqual(chunks.flat(), ids);
      for (const chunk of chunks) {
        assert.ok(chunk.length > 0);
        const payload = JSON.stringify({ type: 'rules_push', gateways: chunk, from: 'x'.repeat(64) });
        assert.ok(Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES, `${Buffer.byteLength(payload)} bytes`);
      }
    }),
  );
});

it('keeps a small push in one message', () => {
  assert.deepEqual(chunkGateways(['gw-1', 'gw-2']), [['gw-1', 'gw-2']]);
  assert.deepEqual(chunkGateways([]), []);
});

const db = await createTempDatabase();

describe('the bus on PostgreSQL: store change notices', { skip: 'error' in db && !IN_CI && db.error }, () => {
  let client: pg.Client;
  before(async () => {
    if ('error' in db) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    if (!('error' in db)) await db.drop();
  });

  it('hands each table notice over, and says notices may have been missed once it listens again', async () => {
    if ('error' in db) return;
    const tables: string[] = [];
    let relistened = 0;
    const bus = createClusterBus({
      url: db.url,
      node: 'node-x',
      logger: createLogger('silent'),
      onMessage: () => undefined,
      onTableChange: (table) => tables.push(table),
      onRelisten: () => (relistened += 1),
      reconnectMs: 50,
    });
    try {
      await bus.start();
      await client.query('SELECT pg_notify($1, $2)', [TABLE_CHANGES_CHANNEL, 'playbooks']);
      await waitFor(() => (tables.includes('playbooks') ? true : undefined), { what: 'the notice' });
      assert.equal(relistened, 0, 'not at the first LISTEN');
      // The listening connection is lost (only this test's database: others are left alone).
      await client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`,
      );
      await waitFor(() => (relistened === 1 && bus.listening() ? true : undefined), {
        what: 'the bus listening again',
      });
      await client.query('SELECT pg_notify($1, $2)', [TABLE_CHANGES_CHANNEL, 'rules']);
      await waitFor(() => (tables.includes('rules') ? true : undefined), { what: 'a notice after it' });
    } finally {
      await bus.stop();
    }
  });
});
