/**
 * Issue 22 ask 1, the harder failure: node A hangs (SIGSTOP) instead of dying, so its sockets stay
 * open and nothing tells the gateway; the link's heartbeat (three silent intervals) finds it, and
 * the gateway moves to node B and sends B the batches A never acked. Then A wakes up (SIGCONT)
 * with those same batches still in its hands and stores them too, racing B: the database's unique
 * (gateway, seq, ts) index is what keeps each event once, not any node's memory. The gateway goes
 * back to A once it answers /healthz again. Counted by sequence number at the end: 1..N, once each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricSum, twoCentralNodes } from '../support/central-node.ts';
import { skipUnmet, waitFor } from '../support/env.ts';

const GATEWAY = 'gw-freeze';

describe('gateway failover when a central node hangs (SIGSTOP), then wakes up', () => {
  const nodes = twoCentralNodes('siem-freeze-');

  it(
    'the heartbeat finds the hung node, B takes over, A wakes and races B: every event stored once',
    { timeout: 240_000 },
    async (t) => {
      const f = nodes();
      if (!f) return skipUnmet(t);
      const { a, b } = f;
      const run = await f.startGateway({
        gatewayId: GATEWAY,
        via: a,
        lines: 'freeze',
        central: { max_in_flight_batches: 8 },
      });
      const { stored } = run;
      await waitFor(run.on(a), { timeoutMs: 60_000, what: 'the link up on node A' });
      await run.waitStored(2000, '2,000 events stored through node A');

      const frozenAt = Date.now();
      a.freeze();
      await waitFor(run.on(b), { timeoutMs: 30_000, intervalMs: 20, what: 'the gateway on node B' });
      const failoverMs = Date.now() - frozenAt;
      t.diagnostic(`failover to node B: ${failoverMs} ms after node A hung (heartbeat 1 s)`);
      // Three silent heartbeat intervals, checked once a second, then a reconnection.
      assert.ok(failoverMs >= 2000 && failoverMs < 15_000, `found by the heartbeat (${failoverMs} ms)`);
      await run.waitStored((await stored()) + 2000, '2,000 more events stored through node B');

      a.thaw();
      await waitFor(run.on(a), { timeoutMs: 60_000, intervalMs: 20, what: 'the gateway back on node A' });
      await run.waitStored((await stored()) + 1000, 'events stored through node A again');

      await run.drain();
      const emitted = run.emitted();
      const { rows } = await run.client.query<{ total: number; seqs: number; max: number; lines: number }>(
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
      assert.equal((await run.link()).endpoint_switches, 2, 'one failover, one failback');
    },
  );
});
