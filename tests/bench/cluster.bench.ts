/**
 * Several central nodes on one PostgreSQL (issue 22 ask 6): ingest through the link into one
 * real `siem-central run` process, beside the same into two processes of one cluster
 * (`cluster.enabled`, the event feed written in each insert's transaction, one correlation leader
 * reading it), on the same PostgreSQL server. Two gateways' worth of events (batches of 5000, 4 in
 * flight each, as in central.bench.ts) go in at once: in the single-node run both gateways use
 * the one node, in the cluster run each uses its own node. Each run gets a fresh database. Also
 * measured: how long after the last ack the cluster's leader has read the whole feed (its lag).
 * On this 2-core machine PostgreSQL, both nodes and the load generator share the cores, so the
 * figure says what a second node costs or gives here, not what a second machine would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { enrollGateway } from '../../gateway/enroll.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { startCentralProcess } from '../soak/processes.ts';
import { freePort } from '../support/env.ts';
import { rawClient } from '../support/link-client.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { makeEvents } from './support/link-sender.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'central cluster';

const BATCH = 5000;
const IN_FLIGHT = 4;

/** The next ack; under load (other work on the machine) one may take longer than `next`'s 10 s. */
async function nextAck(client: Awaited<ReturnType<typeof rawClient>>) {
  const until = performance.now() + 300_000;
  for (;;) {
    try {
      return await client.next('ack');
    } catch (error) {
      if (performance.now() > until) throw error;
    }
  }
}

/** Sends `events` over one authenticated link connection; resolves when all are acked. */
async function send(linkUrl: string, gateway: string, privateKey: string, events: Event[]): Promise<void> {
  const client = await rawClient(linkUrl);
  await client.hello(gateway, privateKey);
  await client.next('welcome');
  let sent = 0;
  let acked = 0;
  let id = 0;
  while (acked < events.length) {
    while (sent < events.length && sent - acked < IN_FLIGHT * BATCH) {
      client.send({ type: 'batch', batch_id: ++id, events: events.slice(sent, sent + BATCH) });
      sent += Math.min(BATCH, events.length - sent);
    }
    const ack = await nextAck(client);
    acked += ack.inserted + ack.duplicates + ack.rejected;
  }
  client.close();
}

/** One configuration: `nodes` central processes on a fresh database, two gateways spread over them. */
async function measure(nodes: 1 | 2, cluster: boolean, perGateway: number) {
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-cluster-'));
  const apiToken = newToken();
  const procs: Array<Awaited<ReturnType<typeof startCentralProcess>>> = [];
  try {
    for (let n = 0; n < nodes; n += 1) {
      const file = path.join(dir, `node-${n}.yaml`);
      writeFileSync(
        file,
        [
          `http: { listen: "127.0.0.1:${await freePort()}" }`,
          `storage: { type: postgres, url: "${db.url}" }`,
          `api: { tokens: [{ name: bench, token_sha256: ${sha256Hex(apiToken)} }] }`,
          ...(cluster ? [`cluster: { enabled: true, node_id: node-${n} }`] : []),
          'log: { level: warn }',
        ].join('\n'),
      );
      // One at a time: the first applies the migrations under the DDL lock.
      procs.push(await startCentralProcess(file));
    }
    const gateways = await Promise.all(
      ['bench-gw-1', 'bench-gw-2'].map(async (id, i) => {
        const node = procs[i % procs.length]!;
        const res = await fetch(`${node.url}/api/enrollment-tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ gateway_id: id }),
        });
        const { token } = (await res.json()) as { token: string };
        const credentials = await enrollGateway({
          central: node.url,
          token,
          gatewayId: id,
          credentialsFile: path.join(dir, `${id}.json`),
        });
        return {
          id,
          node,
          key: credentials.private_key,
          events: makeEvents(id, perGateway, Date.now(), { spanMs: 3_600_000, devices: false }),
        };
      }),
    );
    const started = performance.now();
    await Promise.all(gateways.map((g) => send(g.node.linkUrl, g.id, g.key, g.events)));
    const seconds = (performance.now() - started) / 1000;
    const rate = (2 * perGateway) / seconds;
    // How long until the leader has read every feed row written by then.
    let lagMs: number | undefined;
    if (cluster) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const t0 = performance.now();
        for (;;) {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM event_feed f
              WHERE NOT EXISTS (SELECT 1 FROM cluster_cursors c WHERE c.name = 'correlation'
                                  AND f.id <= c.id)`,
          );
          if (rows[0]!.n === 0) break;
          if (performance.now() - t0 > 120_000) throw new Error('the leader did not catch up in 120 s');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        lagMs = performance.now() - t0;
      } finally {
        await client.end();
      }
    }
    return { rate, lagMs };
  } finally {
    for (const p of procs) await p.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const perGateway = quick ? 10_000 : 200_000;
  const what = `2 gateways × ${perGateway.toLocaleString('en-US')} events, batches of ${BATCH}, ${IN_FLIGHT} in flight each`;
  const one = await measure(1, false, perGateway);
  const oneFeed = await measure(1, true, perGateway);
  const two = await measure(2, true, perGateway);
  const chart = { id: 'cluster-ingest', title: 'Ingest into central: one node, two nodes (events/s)' };
  return [
    {
      name: `ingest, one central node (${what})`,
      value: Math.round(one.rate),
      unit: 'events/s',
      chart: { ...chart, series: 'one node' },
    },
    {
      name: `ingest, one node with cluster.enabled (event feed written at each insert) (${what})`,
      value: Math.round(oneFeed.rate),
      unit: 'events/s',
      peer: { name: 'one node, cluster off', value: Math.round(one.rate) },
      target: { value: Math.round(0.8 * one.rate), better: 'higher', issue: 22 },
      note: 'target: the feed costs at most 20% of single-node ingest',
      chart: { ...chart, series: 'one node, cluster on' },
    },
    {
      name: `ingest, two central nodes on the same PostgreSQL, one gateway each (${what})`,
      value: Math.round(two.rate),
      unit: 'events/s',
      peer: { name: 'one node', value: Math.round(one.rate) },
      target: { value: Math.round(0.7 * one.rate), better: 'higher', issue: 22 },
      note: 'target: two nodes ingest at least 70% of what one does on this shared 2-core machine',
      chart: { ...chart, series: 'two nodes' },
    },
    {
      name: 'cluster leader: feed read to the end after the last ack (two nodes)',
      value: Math.round(two.lagMs ?? 0),
      unit: 'ms',
      target: { value: 10_000, better: 'lower', issue: 22 },
    },
  ];
}
