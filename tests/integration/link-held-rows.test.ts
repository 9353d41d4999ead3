/**
 * A central node that hangs in the middle of writing a batch keeps its transaction open, and with
 * it the unique keys of the rows it wrote. The gateway, moved to another node, sends that batch
 * there too: storing it waits for the hung transaction, which does not end while the node is hung.
 * Central bounds the wait (`storage.lock_wait_secs`), leaves the batch unacked and tries it again
 * a second later, and stores the link's other batches meanwhile (SPEC §4.8); once the holder
 * commits, the batch is acked with its events counted as duplicates. Node A here is a second
 * store on the same database whose insert is held open after its rows are written.
 * From link v4 central says the batch is held, and the gateway stops counting it against its
 * window: after a cut link that window is one batch, the oldest unacked first, which is the held
 * one; before v4 the gateway then sent nothing more until the holder ended (a rare failure of
 * central-freeze.test.ts under load).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresStore } from '../../central/store/index.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { skipUnmet, waitFor } from '../support/env.ts';
import { pending, rawClient } from '../support/link-client.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { startTestCentral, startTestGateway } from '../support/stack.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { makeEvent } from '../central/store/fixtures.ts';

describe('link: a batch whose rows a hung node holds', () => {
  let db: TempDatabase | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async (t) => {
    db = await requirePostgres(t as never);
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await db?.drop();
  });

  /** Node A: its insert of `events` writes their rows and holds them until `release()`. */
  async function hungNodeWriting(events: Event[]) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const rowsWritten = new Promise<void>((resolve) => (written = resolve));
    const store = await createPostgresStore({
      connectionString: db!.url,
      poolMax: 2,
      onInserted: async () => {
        written();
        await released;
      },
    });
    cleanups.push(() => store.close());
    await store.init(new Date());
    const write = store.insertEvents(events);
    await rowsWritten;
    return { write, release };
  }

  it('waits for them without holding up the batches behind it, then acks it as duplicates', async (t) => {
    if (!db) return skipUnmet(t);
    // One batch stored at a time: a held batch that kept its slot would stop the link.
    const c = await startTestCentral(
      { type: 'postgres', url: db.url, lock_wait_secs: 0.3 },
      { link: { max_concurrent_batches: 1 } },
    );
    cleanups.push(() => c.central.stop());
    const ts = new Date().toISOString();
    const event = (seq: number) => makeEvent(c.gatewayId, seq, ts, { message: `held ${seq}` });
    const held = [1, 2, 3].map(event);
    const nodeA = await hungNodeWriting(held);

    const client = await rawClient(c.central.linkUrl());
    await client.hello(c.gatewayId, c.privateKey, 4);
    await client.next('welcome');
    client.send({ type: 'batch', batch_id: 1, events: held });
    client.send({ type: 'batch', batch_id: 2, events: [4, 5].map(event) });
    assert.deepEqual(await client.next('held'), { type: 'held', batch_id: 1 });
    assert.deepEqual(await client.next('ack'), {
      type: 'ack',
      batch_id: 2,
      inserted: 2,
      duplicates: 0,
      rejected: 0,
    });
    const metricsText = async () => (await fetch(`${c.central.url()}/metrics`)).text();
    assert.match(await metricsText(), /siem_central_errors_total\{[^}]*code="rows_held"[^}]*\} [1-9]/);

    nodeA.release();
    assert.deepEqual(await nodeA.write, { inserted: 3, duplicates: 0 });
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
    await client.closed;

    // A v3 gateway is never sent `held` (SPEC §7): it would refuse the message.
    const nodeA2 = await hungNodeWriting([6, 7].map(event));
    const old = await rawClient(c.central.linkUrl());
    await old.hello(c.gatewayId, c.privateKey, 3);
    await old.next('welcome');
    old.send({ type: 'batch', batch_id: 1, events: [6, 7].map(event) });
    old.send({ type: 'batch', batch_id: 2, events: [event(8)] });
    assert.equal((await old.next('ack')).batch_id, 2);
    await waitFor(
      async () => (/code="rows_held"[^}]*\} [2-9]/.test(await metricsText()) ? true : undefined),
      {
        what: 'the second held batch counted',
      },
    );
    assert.ok(!old.unread().includes('held'), old.unread().join());
    nodeA2.release();
    await nodeA2.write;
    assert.deepEqual(await old.next('ack'), {
      type: 'ack',
      batch_id: 1,
      inserted: 0,
      duplicates: 2,
      rejected: 0,
    });
    assert.ok(!old.unread().includes('held'), 'no held message on a v3 link');
    old.close();
  });

  it('a gateway back from a cut link, its oldest batch held, still sends the ones behind it', async (t) => {
    if (!db) return skipUnmet(t);
    const gatewayId = 'gw-cut';
    const c = await startTestCentral({ type: 'postgres', url: db.url, lock_wait_secs: 0.3 }, { gatewayId });
    cleanups.push(() => c.central.stop());
    const ts = new Date().toISOString();
    const nodeA = await hungNodeWriting([1, 2, 3].map((seq) => makeEvent(gatewayId, seq, ts)));

    // The gateway reaches central through a proxy that can cut the link.
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(c.central.linkUrl()).port) });
    cleanups.push(() => proxy.close());
    const gw = await startTestGateway(
      { linkUrl: proxy.via(c.central.linkUrl()), gatewayId, privateKey: c.privateKey },
      { syslog: false, central: { batch_max_events: 20, max_in_flight_batches: 4 } },
    );
    cleanups.push(() => gw.stop());
    // Same `ts` as node A's rows: seqs 1..3 are the very rows it holds. Ten at a time, each
    // durable before the next: the queue's records of ten are what batches are made of.
    const emit = async (from: number, count: number) => {
      for (let k = from; k < from + count; k += 10)
        await gw.emit(
          Array.from({ length: 10 }, (_, i) => ({ ...pending(`cut ${k + i}`), ts, received: ts })),
        );
    };
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    cleanups.push(() => sql.end());
    const count = async () =>
      (
        await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE gateway = $1', [
          gatewayId,
        ])
      ).rows[0]!.n;
    const stored = (n: number, what: string) =>
      waitFor(async () => ((await count()) >= n ? true : undefined), { timeoutMs: 20_000, what });
    const link = async () => (await gw.gateway.status()).link;

    // seq 1..100 in batches of up to 20: the first (with 1..3) is held, the 80 behind it stored.
    await emit(1, 100);
    await stored(80, 'the 80 events behind the held batch');

    // The link drops with it in flight. The gateway comes back in a slow start (batches of 10, a
    // window of one) and sends 1..10 first: held again.
    const before = (await link()).connected_since;
    proxy.cutAll();
    await waitFor(
      async () => {
        const l = await link();
        return l.connected && l.connected_since !== before ? true : undefined;
      },
      { what: 'the link up again' },
    );
    await emit(101, 100);
    await stored(190, 'all but 1..10, while node A still holds 1..3');
    assert.equal(await count(), 190);

    // Node A commits: the held batch goes in (4..10 inserted, 1..3 duplicates) and is acked.
    nodeA.release();
    assert.deepEqual(await nodeA.write, { inserted: 3, duplicates: 0 });
    await stored(200, 'all 200 events');
    await waitFor(async () => ((await link()).in_flight_batches === 0 ? true : undefined), {
      what: 'nothing in flight',
    });
    const { rows } = await sql.query<{ n: number; seqs: number; max: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT seq)::int AS seqs, max(seq)::int AS max
         FROM events WHERE gateway = $1`,
      [gatewayId],
    );
    assert.deepEqual(rows[0], { n: 200, seqs: 200, max: 200 });
  });
});
