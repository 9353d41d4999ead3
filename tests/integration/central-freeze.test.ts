/**
 * Issue 22 ask 1, the harder failure: node A hangs (SIGSTOP) instead of dying, so its sockets stay
 * open and nothing tells the gateway; the link's heartbeat (three silent intervals) finds it, and
 * the gateway moves to node B and sends B the batches A never acked. Then A wakes up (SIGCONT)
 * with those same batches still in its hands and stores them too, racing B: the database's unique
 * (gateway, seq, ts) index is what keeps each event once, not any node's memory. The gateway goes
 * back to A once it answers /healthz again. Counted by sequence number at the end: 1..N, once each.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { newToken } from '../../central/auth/tokens.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { enrollGateway } from '../../gateway/enroll.ts';
import { type Gateway, startGateway } from '../../gateway/index.ts';
import { createLogger } from '../../gateway/log.ts';
import { type CentralNode, centralNode, metricSum, mintEnrollmentToken } from '../support/central-node.ts';
import { requireTool, skipUnmet, waitFor } from '../support/env.ts';
import { pending } from '../support/link-client.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { makeTestPki, type TestPki } from '../support/tls.ts';

const GATEWAY = 'gw-freeze';

describe('gateway failover when a central node hangs (SIGSTOP), then wakes up', () => {
  let db: TempDatabase | undefined;
  let pki: TestPki | undefined;
  let dir = '';
  let a: CentralNode;
  let b: CentralNode;
  let gateway: Gateway | undefined;
  const apiToken = newToken();

  before(async (t) => {
    if (!requireTool(t as never, 'openssl', 'openssl')) return;
    db = await requirePostgres(t as never);
    if (!db) return;
    pki = makeTestPki();
    dir = mkdtempSync(path.join(tmpdir(), 'siem-freeze-'));
    a = await centralNode({ name: 'node-a', dir, databaseUrl: db.url, pki, apiToken });
    b = await centralNode({ name: 'node-b', dir, databaseUrl: db.url, pki, apiToken });
    await a.start();
    await b.start();
  });

  after(async () => {
    await gateway?.stop();
    await a?.stop();
    await b?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it(
    'the heartbeat finds the hung node, B takes over, A wakes and races B: every event stored once',
    { timeout: 240_000 },
    async (t) => {
      if (!db || !pki) return skipUnmet(t);
      const ca = pki.read(pki.caFile);
      const credentials = await enrollGateway({
        central: a.url,
        token: await mintEnrollmentToken(a, apiToken, ca, GATEWAY),
        gatewayId: GATEWAY,
        credentialsFile: path.join(dir, 'credentials.json'),
        ca,
      });
      const logLevel = process.env.SIEM_TEST_LOG || 'silent';
      gateway = await startGateway(
        gatewayConfigSchema.parse({
          gateway: { id: GATEWAY, data_dir: path.join(dir, 'gateway') },
          sources: {},
          central: {
            endpoints: [a.linkUrl, b.linkUrl],
            tls: { ca_file: pki.caFile },
            initial_backoff_secs: 0.2,
            max_backoff_secs: 1,
            heartbeat_interval_secs: 1,
            batch_max_events: 200,
            max_in_flight_batches: 8,
            failback: { check_interval_secs: 0.5, healthy_checks: 3 },
          },
          http: { listen: '127.0.0.1:0' },
          log: { level: logLevel },
        }),
        {
          privateKey: credentials.private_key,
          logger: createLogger(logLevel),
          processMetrics: false,
          printSecret: () => {},
        },
      );
      const gw = gateway;
      const link = async () => (await gw.status()).link;
      let emitted = 0;
      let streaming = true;
      const stream = (async () => {
        while (streaming) {
          const batch = Array.from({ length: 40 }, (_, i) => pending(`freeze ${emitted + i}`));
          await gw.ingest('test', batch);
          emitted += batch.length;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const stored = async () =>
        (
          await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE gateway = $1', [
            GATEWAY,
          ])
        ).rows[0]!.n;
      const on = (node: CentralNode) => async () => {
        const l = await link();
        return l.connected && l.endpoint === node.linkUrl ? true : undefined;
      };
      try {
        await waitFor(on(a), { timeoutMs: 60_000, what: 'the link up on node A' });
        await waitFor(async () => ((await stored()) >= 2000 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: '2,000 events stored through node A',
        });

        const frozenAt = Date.now();
        a.freeze();
        await waitFor(on(b), { timeoutMs: 30_000, intervalMs: 20, what: 'the gateway on node B' });
        const failoverMs = Date.now() - frozenAt;
        t.diagnostic(`failover to node B: ${failoverMs} ms after node A hung (heartbeat 1 s)`);
        // Three silent heartbeat intervals, checked once a second, then a reconnection.
        assert.ok(failoverMs >= 2000 && failoverMs < 15_000, `found by the heartbeat (${failoverMs} ms)`);
        const onB = await stored();
        await waitFor(async () => ((await stored()) >= onB + 2000 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: '2,000 more events stored through node B',
        });

        a.thaw();
        await waitFor(on(a), { timeoutMs: 60_000, intervalMs: 20, what: 'the gateway back on node A' });
        const onA = await stored();
        await waitFor(async () => ((await stored()) >= onA + 1000 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: 'events stored through node A again',
        });

        streaming = false;
        await stream;
        await waitFor(
          async () => {
            const s = await gw.status();
            return s.queue.events === 0 && s.link.in_flight_batches === 0 ? true : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 100, what: 'the gateway queue to drain' },
        );
        const { rows } = await client.query<{ total: number; seqs: number; max: number; lines: number }>(
          `SELECT count(*)::int AS total, count(DISTINCT seq)::int AS seqs, coalesce(max(seq), 0)::int AS max,
                count(DISTINCT message) FILTER (WHERE message LIKE 'freeze %')::int AS lines
           FROM events WHERE gateway = $1`,
          [GATEWAY],
        );
        const r = rows[0]!;
        const duplicates =
          metricSum((await a.get('/metrics')).body, 'siem_central_link_events_duplicate_total') +
          metricSum((await b.get('/metrics')).body, 'siem_central_link_events_duplicate_total');
        t.diagnostic(
          `emitted ${emitted}; stored ${r.total}, ${r.seqs} distinct seqs, max seq ${r.max}; duplicates refused by the nodes: ${duplicates}`,
        );
        assert.equal(r.seqs, r.total, 'no event stored twice');
        assert.equal(r.max, r.total, 'no gap');
        assert.equal(r.lines, emitted, 'every emitted line stored');
        assert.equal((await link()).endpoint_switches, 2, 'one failover, one failback');
      } finally {
        streaming = false;
        await stream;
        await client.end();
      }
    },
  );
});
