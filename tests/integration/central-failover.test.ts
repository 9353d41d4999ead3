/**
 * Issue 22 ask 1, with real processes: two central nodes (`siem-central run`, HTTPS and wss://
 * with the test PKI) on one PostgreSQL database, and one gateway configured with both in
 * `central.endpoints`. The gateway enrolls through node B and sends to node A (preferred); A is
 * killed with SIGKILL mid-stream and the gateway moves to B within seconds; A comes back and the
 * gateway returns to it after the failback check. Every event is stored exactly once: the
 * gateway's sequence numbers in PostgreSQL are 1..N with no gap and no duplicate, and every line
 * the test emitted is there once.
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
import { type CentralNode, centralNode, mintEnrollmentToken } from '../support/central-node.ts';
import { requireTool, skipUnmet, waitFor } from '../support/env.ts';
import { pending } from '../support/link-client.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { makeTestPki, type TestPki } from '../support/tls.ts';

const GATEWAY = 'gw-failover';

describe('gateway failover between two central processes on one PostgreSQL (wss://)', () => {
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
    dir = mkdtempSync(path.join(tmpdir(), 'siem-failover-'));
    a = await centralNode({ name: 'node-a', dir, databaseUrl: db.url, pki, apiToken });
    b = await centralNode({ name: 'node-b', dir, databaseUrl: db.url, pki, apiToken });
    // One at a time: both run the migrations under the DDL lock, but the first start is the slow one.
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
    'SIGKILL of the node in use: the gateway moves to the other within seconds, returns when it is back, every event stored once',
    { timeout: 240_000 },
    async (t) => {
      if (!db || !pki) return skipUnmet(t);
      const ca = pki.read(pki.caFile);

      // Enrollment through node B: the key is in the shared database, so node A accepts it too.
      const token = await mintEnrollmentToken(b, apiToken, ca, GATEWAY);
      const credentials = await enrollGateway({
        central: b.url,
        token,
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

      // The stream: 40 lines every 20 ms (about 2,000 events/s at low load) until told to stop.
      let emitted = 0;
      let streaming = true;
      const stream = (async () => {
        while (streaming) {
          const batch = Array.from({ length: 40 }, (_, i) => pending(`failover ${emitted + i}`));
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
      try {
        await waitFor(async () => ((await link()).connected ? true : undefined), {
          timeoutMs: 60_000,
          what: 'the link up',
        });
        assert.equal((await link()).endpoint, a.linkUrl, 'the preferred node first');
        await waitFor(async () => ((await stored()) >= 2000 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: '2,000 events stored through node A',
        });

        // Kill A mid-stream.
        const killedAt = Date.now();
        await a.kill();
        await waitFor(
          async () => {
            const l = await link();
            return l.connected && l.endpoint === b.linkUrl ? true : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 20, what: 'the gateway on node B' },
        );
        const failoverMs = Date.now() - killedAt;
        const beforeB = await stored();
        await waitFor(async () => ((await stored()) >= beforeB + 2000 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: '2,000 more events stored through node B',
        });
        t.diagnostic(`failover to node B: ${failoverMs} ms after SIGKILL of node A`);
        assert.ok(failoverMs < 15_000, `moved to B within seconds (${failoverMs} ms)`);
        assert.equal((await link()).endpoint_index, 1);

        // A comes back: the gateway returns after three healthy checks half a second apart.
        await a.start();
        const backAt = Date.now();
        await waitFor(
          async () => {
            const l = await link();
            return l.connected && l.endpoint === a.linkUrl ? true : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 20, what: 'the gateway back on node A' },
        );
        const failbackMs = Date.now() - backAt;
        t.diagnostic(`failback to node A: ${failbackMs} ms after it was up again`);
        // (How many healthy answers a return needs is the unit test's, tests/gateway/endpoints.test.ts:
        // measured from here, under load, the time since A listened is not known closely enough.)
        const beforeA = await stored();
        await waitFor(async () => ((await stored()) >= beforeA + 1000 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: 'events stored through node A again',
        });
        const status = await link();
        assert.equal(status.endpoint_switches, 2, 'one failover, one failback: no flapping');
        const metrics = await (await fetch(`${gw.httpUrl()}/metrics`)).text();
        // (Every gateway metric also carries the gateway label.)
        assert.match(metrics, /siem_gateway_link_failovers_total\{reason="failover"[^}]*\} 1\n/);
        assert.match(metrics, /siem_gateway_link_failovers_total\{reason="failback"[^}]*\} 1\n/);
        assert.ok(
          metrics.includes(
            `siem_gateway_link_endpoint{endpoint="${a.linkUrl}",position="0",gateway="${GATEWAY}"} 1\n`,
          ),
          'the endpoint gauge shows node A in use',
        );
        assert.ok(
          metrics.includes(
            `siem_gateway_link_endpoint{endpoint="${b.linkUrl}",position="1",gateway="${GATEWAY}"} 0\n`,
          ),
        );

        // Stop the stream, let the queue drain, then count by sequence number.
        streaming = false;
        await stream;
        await waitFor(
          async () => {
            const s = await gw.status();
            return s.queue.events === 0 && s.link.in_flight_batches === 0 ? true : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 100, what: 'the gateway queue to drain' },
        );
        const { rows } = await client.query<{
          total: number;
          seqs: number;
          max: number;
          lines: number;
          distinct_lines: number;
        }>(
          `SELECT count(*)::int AS total, count(DISTINCT seq)::int AS seqs, coalesce(max(seq), 0)::int AS max,
                count(*) FILTER (WHERE message LIKE 'failover %')::int AS lines,
                count(DISTINCT message) FILTER (WHERE message LIKE 'failover %')::int AS distinct_lines
           FROM events WHERE gateway = $1`,
          [GATEWAY],
        );
        const r = rows[0]!;
        t.diagnostic(
          `emitted ${emitted}; stored ${r.total} events, ${r.seqs} distinct seqs, max seq ${r.max}`,
        );
        assert.equal(r.seqs, r.total, 'no event stored twice');
        assert.equal(r.max, r.total, 'no gap: every sequence number 1..N stored');
        assert.equal(r.lines, emitted, 'every emitted line stored');
        assert.equal(r.distinct_lines, emitted, 'each once');
      } finally {
        streaming = false;
        await stream;
        await client.end();
      }
    },
  );
});
