/**
 * A central node that hangs in the middle of writing a batch keeps its transaction open, and with
 * it the unique keys of the rows it wrote. The gateway, moved to another node, sends that batch
 * there too: storing it waits for the hung transaction, which does not end while the node is hung.
 * Central bounds the wait (`storage.lock_wait_secs`), leaves the batch unacked and tries it again
 * a second later, and stores the link's other batches meanwhile (SPEC §4.8); once the holder
 * commits, the batch is acked with its events counted as duplicates. Node A here is a second
 * store on the same database whose insert is held open after its rows are written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostgresStore } from '../../central/store/index.ts';
import type { EventStore } from '../../central/store/types.ts';
import { skipUnmet } from '../support/env.ts';
import { rawClient } from '../support/link-client.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';
import { makeEvent } from '../central/store/fixtures.ts';

describe('link: a batch whose rows a hung node holds', () => {
  let db: TempDatabase | undefined;
  let c: TestCentral | undefined;
  let nodeA: EventStore | undefined;

  before(async (t) => {
    db = await requirePostgres(t as never);
  });
  after(async () => {
    await c?.central.stop();
    await nodeA?.close();
    await db?.drop();
  });

  it('waits for them without holding up the batches behind it, then acks it as duplicates', async (t) => {
    if (!db) return skipUnmet(t);
    // One batch stored at a time: a held batch that kept its slot would stop the link.
    c = await startTestCentral(
      { type: 'postgres', url: db.url, lock_wait_secs: 0.3 },
      { link: { max_concurrent_batches: 1 } },
    );
    const ts = new Date().toISOString();
    const event = (seq: number) => makeEvent(c!.gatewayId, seq, ts, { message: `held ${seq}` });
    const held = [1, 2, 3].map(event);

    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const rowsWritten = new Promise<void>((resolve) => (written = resolve));
    nodeA = await createPostgresStore({
      connectionString: db.url,
      poolMax: 2,
      onInserted: async () => {
        written();
        await released;
      },
    });
    await nodeA.init(new Date());
    const nodeAWrite = nodeA.insertEvents(held);
    await rowsWritten;

    const client = await rawClient(c.central.linkUrl());
    await client.hello(c.gatewayId, c.privateKey);
    await client.next('welcome');
    client.send({ type: 'batch', batch_id: 1, events: held });
    client.send({ type: 'batch', batch_id: 2, events: [4, 5].map(event) });
    assert.deepEqual(await client.next('ack'), {
      type: 'ack',
      batch_id: 2,
      inserted: 2,
      duplicates: 0,
      rejected: 0,
    });
    const metrics = await (await fetch(`${c.central.url()}/metrics`)).text();
    assert.match(metrics, /siem_central_errors_total\{[^}]*code="rows_held"[^}]*\} [1-9]/);

    release();
    assert.deepEqual(await nodeAWrite, { inserted: 3, duplicates: 0 });
    assert.deepEqual(await client.next('ack'), {
      type: 'ack',
      batch_id: 1,
      inserted: 0,
      duplicates: 3,
      rejected: 0,
    });
    const stored = await c.events('q=held');
    assert.deepEqual(
      stored.map((e) => e.seq).sort((a, b) => a - b),
      [1, 2, 3, 4, 5],
    );
    client.close();
  });
});
