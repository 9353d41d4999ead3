/**
 * Issue 22 ask 4: central on a primary and a synchronous streaming replica (two clusters of the
 * test's own, tests/support/pg-cluster.ts), configured with a multi-host connection string
 * (`host=…,… port=P,R target_session_attrs=read-write`). A gateway streams; the primary crashes
 * (`pg_ctl stop -m immediate`) and the replica is promoted, as a failover manager would do it.
 * Central finds the new primary by itself and storing resumes; nothing acknowledged is lost: the
 * gateway deletes only acked batches, so a batch acked on the old primary and missing on the new
 * one would be a gap in the sequence, and there is none (1..N, each once).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostgresStore } from '../../central/store/postgres.ts';
import { skipMissing, skipUnmet, waitFor } from '../support/env.ts';
import { pending } from '../support/link-client.ts';
import { type PgReplicaPair, postgresBinDir, startReplicaPair } from '../support/pg-cluster.ts';
import { startTestCentral, startTestGateway, type TestCentral, type TestGateway } from '../support/stack.ts';

describe('PostgreSQL failover: central follows a promoted synchronous replica', () => {
  let pair: PgReplicaPair | undefined;
  let c: TestCentral | undefined;
  let g: TestGateway | undefined;

  before(async (t) => {
    const bin = postgresBinDir();
    if (typeof bin !== 'string') return skipMissing(t as never, bin);
    pair = await startReplicaPair(bin);
  });

  after(async () => {
    await g?.stop();
    await c?.central.stop();
    pair?.destroy();
  });

  it(
    'primary crashes, replica promoted mid-stream: central reconnects, every acked event is there once',
    { timeout: 180_000 },
    async (t) => {
      if (!pair) return skipUnmet(t);
      const p = pair;
      // Synchronous as set up: the check central makes at start has nothing to say.
      const warnings: string[] = [];
      await (
        await createPostgresStore({
          connectionString: p.connectionString,
          onWarning: (m) => warnings.push(m),
        })
      ).close();
      assert.deepEqual(warnings, []);
      c = await startTestCentral(
        { type: 'postgres', url: p.connectionString },
        {
          gatewayId: 'gw-pgha',
          heartbeatSecs: 1,
          // As one of several nodes: its bus and leader-lock connections must follow the primary too.
          cluster: { enabled: true, node_id: 'node-pgha', heartbeat_interval_secs: 0.5 },
        },
      );
      g = await startTestGateway(
        { linkUrl: c.central.linkUrl(), gatewayId: 'gw-pgha', privateKey: c.privateKey },
        { syslog: false, heartbeatSecs: 1 },
      );
      const gw = g;
      let emitted = 0;
      let streaming = true;
      const stream = (async () => {
        while (streaming) {
          const batch = Array.from({ length: 40 }, (_, i) => pending(`pgha ${emitted + i}`));
          await gw.emit(batch);
          emitted += batch.length;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();

      let db = await p.client(p.primary);
      const stored = async () =>
        (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE gateway = 'gw-pgha'"))
          .rows[0]!.n;
      try {
        await waitFor(async () => ((await stored()) >= 2000 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: '2,000 events on the primary',
        });
        const acked = async () => {
          const m = await (await fetch(`${gw.gateway.httpUrl()}/metrics`)).text();
          return Number(/^siem_gateway_link_events_acked_total\{[^}]*\} (\d+)$/m.exec(m)?.[1] ?? 0);
        };
        await db.end();
        const ackedBefore = await acked();
        const crashedAt = Date.now();
        p.primary.crash();
        p.replica.promote();
        const promotedMs = Date.now() - crashedAt;
        db = await p.client(p.replica);
        const onReplica = await stored();
        // Everything acked before the crash is on the replica (synchronous commit), whatever came later.
        assert.ok(
          onReplica >= ackedBefore,
          `the replica holds every acked event (${onReplica} ≥ ${ackedBefore})`,
        );
        await waitFor(async () => ((await stored()) >= onReplica + 1000 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: '1,000 more events stored on the promoted replica',
        });
        const resumedMs = Date.now() - crashedAt;
        t.diagnostic(`promotion took ${promotedMs} ms; storing resumed ${resumedMs} ms after the crash`);

        streaming = false;
        await stream;
        await waitFor(
          async () => {
            const s = await gw.gateway.status();
            return s.queue.events === 0 && s.link.in_flight_batches === 0 && s.link.connected
              ? true
              : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 100, what: 'the gateway queue to drain' },
        );
        const { rows } = await db.query<{ total: number; seqs: number; max: number; lines: number }>(
          `SELECT count(*)::int AS total, count(DISTINCT seq)::int AS seqs, coalesce(max(seq), 0)::int AS max,
                count(DISTINCT message) FILTER (WHERE message LIKE 'pgha %')::int AS lines
           FROM events WHERE gateway = 'gw-pgha'`,
        );
        const r = rows[0]!;
        t.diagnostic(`emitted ${emitted}; stored ${r.total}, ${r.seqs} distinct seqs, max seq ${r.max}`);
        assert.equal(r.seqs, r.total, 'no event stored twice');
        assert.equal(r.max, r.total, 'no gap: nothing acked was lost');
        assert.equal(r.lines, emitted, 'every emitted line stored');
        // The correlation leader's lock (a session lock, not replicated) is taken again on the new primary.
        await waitFor(
          async () => {
            const { rows: nodes } = await db.query<{ leader: boolean; fresh: boolean }>(
              `SELECT leader, heartbeat_at > $1::timestamptz AS fresh FROM cluster_nodes WHERE node = 'node-pgha'`,
              [new Date(crashedAt + promotedMs).toISOString()],
            );
            // ... and really held there: a session advisory lock granted on the promoted server.
            const { rows: locks } = await db.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted",
            );
            return nodes[0]?.leader && nodes[0].fresh && locks[0]!.n > 0 ? true : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 200, what: 'the node leading again on the promoted server' },
        );
        const health = await fetch(`${c.central.url()}/healthz`);
        assert.equal(health.status, 200, 'central healthy on the new primary');
      } finally {
        streaming = false;
        await stream;
        await db.end().catch(() => undefined);
      }
    },
  );
});
