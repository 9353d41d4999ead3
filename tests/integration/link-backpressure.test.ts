/**
 * What central holds between a batch's commit and the end of its enrichment and detection is
 * bounded (`link.max_unprocessed_events`): past the bound the link stores no further batch, so it
 * acks none, and the gateway waits with the rest on its disk. Issue 18's soak found the unbounded
 * form: a detection slower than storage (a rebuild after a restart under load) held every batch
 * stored meanwhile until central ran out of heap. Here detection is slower than storage for real:
 * every event is a gateway alert, and raising each one takes transactions on PostgreSQL, while a
 * batch of them is one COPY.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { encodeAlertEvent } from '../../protocols/event/alert.ts';
import type { Event } from '../../protocols/event/schema.ts';
import type { SigmaAlert } from '../../protocols/sigma/index.ts';
import { skipUnmet, waitFor } from '../support/env.ts';
import { rawClient } from '../support/link-client.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';
import { storedEvent } from '../support/stored-event.ts';

const BOUND = 50;
const BATCHES = 6;
const PER_BATCH = 50;

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

describe('link back-pressure from enrichment and detection', () => {
  let db: TempDatabase | undefined;
  let c: TestCentral | undefined;
  before(async (t) => {
    db = await requirePostgres(t as never);
  });
  after(async () => {
    await c?.central.stop();
    await db?.drop();
  });

  it('stores no more while the events waiting for detection are past the bound, and loses none', async (t) => {
    if (!db) return skipUnmet(t);
    // One batch stored at a time, so the bound is checked before each: at most BOUND - 1 + a batch.
    c = await startTestCentral(
      { type: 'postgres', url: db.url },
      { link: { max_unprocessed_events: BOUND, max_concurrent_batches: 1 } },
    );
    const gateway = c.gatewayId;
    const now = Date.now();
    let seq = 0;
    const alertEvent = (): Event => {
      seq += 1;
      const alert: SigmaAlert = {
        id: `bp-${seq}`,
        kind: 'new',
        rule: { id: 'rule-bp', title: 'Back-pressure test alert', type: 'detection' },
        level: 'medium',
        severity: 4,
        techniques: [],
        tactics: [],
        entity: { key: `plc-${seq}`, device: `modbus:plc-${seq}` },
        event_ids: [`${gateway}:${seq}`],
        count: 1,
        first_ms: now,
        last_ms: now,
      };
      return storedEvent(encodeAlertEvent(alert, new Date(now)), { gateway, seq });
    };

    const client = await rawClient(c.central.linkUrl());
    await client.hello(gateway, c.privateKey);
    await client.next('welcome');
    // Sent at once, past any window: what central takes in is its own decision.
    for (let b = 1; b <= BATCHES; b++)
      client.send({ type: 'batch', batch_id: b, events: Array.from({ length: PER_BATCH }, alertEvent) });

    const metricsUrl = `${c.central.url()}/metrics`;
    let most = 0;
    let httpRefused = false;
    const httpStatuses: number[] = [];
    let acked = 0;
    const acks = (async () => {
      for (; acked < BATCHES; acked++) {
        const ack = await client.next('ack');
        assert.equal(ack.inserted, PER_BATCH);
      }
    })();
    let done = false;
    void acks.finally(() => (done = true));
    while (!done) {
      const text = await (await fetch(metricsUrl)).text();
      const waiting = metric(text, 'siem_central_unprocessed_events');
      most = Math.max(most, waiting);
      // HTTP ingest while at the bound: refused for now (429), nothing stored.
      if (waiting >= BOUND && !httpRefused) {
        const res = await fetch(`${c.central.url()}/api/ingest`, {
          method: 'POST',
          headers: { authorization: `Bearer ${c.apiToken}`, 'content-type': 'application/x-ndjson' },
          body: 'backpressure over http\n',
        });
        httpStatuses.push(res.status);
        httpRefused = res.status === 429 && res.headers.has('retry-after');
        await res.body?.cancel();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await acks;

    assert.ok(most > 0, 'the gauge saw events waiting');
    assert.ok(most < BOUND + PER_BATCH, `at most ${most} events waited (bound ${BOUND})`);
    assert.ok(
      httpRefused,
      `HTTP ingest refused while behind (answers: ${httpStatuses.join(', ')}; most ${most})`,
    );
    const accepted = httpStatuses.filter((s) => s === 202).length;
    assert.equal((await c.events('q=backpressure')).length, accepted, 'only what was accepted is stored');
    const text = await (await fetch(metricsUrl)).text();
    assert.ok(metric(text, 'siem_central_link_throttled_total') > 0, 'batches waited for room');
    const stored = await c.events('source=gateway');
    assert.equal(stored.length, BATCHES * PER_BATCH);
    // Every alert event went through detection: nothing skipped, nothing left waiting.
    await waitFor(
      async () =>
        metric(await (await fetch(metricsUrl)).text(), 'siem_central_unprocessed_events') === 0 || undefined,
      { what: 'every stored event through detection' },
    );
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      const { rows } = await sql.query<{ n: number }>(
        "SELECT count(DISTINCT entity)::int AS n FROM alerts WHERE rule_id = 'rule-bp'",
      );
      assert.equal(rows[0]!.n, BATCHES * PER_BATCH, 'an alert for each device');
    } finally {
      await sql.end();
    }
    client.close();
  });
});
