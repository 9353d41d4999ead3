/**
 * A leader hand-over must not add to an alert's count (central/cluster/leader.ts, alerts/raise.ts).
 * Two nodes on one PostgreSQL, the gateway on node-b, central's rules with a plain rule uploaded:
 * - a rule hit twice on one host: node-a raises the alert (count 1), then its timer closes the
 *   engine's group and adds the repeat (count 2). node-b, taking over, replays the feed to reopen
 *   the windows node-a had, which reopens that group too: closing it again must not add 1;
 * - a rule hit once on another host, raised by node-a, whose feed cursor is then put back before
 *   that hit: the state a leader leaves when it dies after the alert's COMMIT and before its
 *   cursor is saved. node-b handles that row again: the alert must not count it twice.
 * An alert on a third host, raised by node-b after both, shows node-b has handled everything.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { REPO_ROOT, skipUnmet, waitFor } from '../../support/env.ts';
import { requirePostgres, type TempDatabase } from '../../support/postgres.ts';
import {
  startTestCentral,
  startTestGateway,
  type TestCentral,
  type TestGateway,
} from '../../support/stack.ts';

const CLUSTER = {
  enabled: true,
  heartbeat_interval_secs: 0.3,
  feed_poll_interval_ms: 50,
  node_timeout_secs: 5,
};
const SLOW_MS = 60_000;
// rules/central has 10-minute correlations, so a new leader replays the feed; repeats of a rule
// on one entity group for 1 s in the engine.
const DETECTION = { rules_dirs: [path.join(REPO_ROOT, 'rules', 'central')], alert_window_secs: 1 };
const RULE = '5f0c2a8e-6b1d-4e7a-9c33-1a2b3c4d5e6f';
const RULE_YAML = `title: Hand-over probe
id: ${RULE}
status: test
logsource:
  product: syslog
detection:
  selection:
    action: syslog.handover.probe
  condition: selection
level: high
`;

let n = 0;
function probe(host: string): PendingEvent {
  const ts = new Date(Date.now() + n++).toISOString();
  return {
    ts,
    received: ts,
    source: 'syslog',
    kind: 'security',
    action: 'syslog.handover.probe',
    severity: 4,
    message: `probe ${n} on ${host}`,
    host,
    fields: {},
    tags: [],
  };
}

describe('a leader hand-over and alert counts', () => {
  let db: TempDatabase | undefined;
  let client: pg.Client;
  let a: TestCentral | undefined;
  let b: TestCentral;
  let gw: TestGateway;

  const leaderOf = async () =>
    (await client.query<{ node: string }>('SELECT node FROM cluster_nodes WHERE leader')).rows.map(
      (r) => r.node,
    );
  const countOf = async (host: string) => {
    const { rows } = await client.query<{ count: number }>(
      'SELECT count::int AS count FROM alerts WHERE rule_id = $1 AND entity = $2',
      [RULE, host],
    );
    return rows.map((r) => r.count);
  };
  /** The feed rows not yet behind the leader's cursor. */
  const unhandled = async () =>
    (
      await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM event_feed
          WHERE id > coalesce((SELECT id FROM cluster_cursors WHERE name = 'correlation'), 0)`,
      )
    ).rows[0]!.n;

  before(async (t) => {
    db = await requirePostgres(t as never);
    if (!db) return;
    client = new pg.Client({ connectionString: db.url });
    a = await startTestCentral(
      { type: 'postgres', url: db.url },
      { cluster: { ...CLUSTER, node_id: 'node-a' }, detection: DETECTION },
    );
    await client.connect();
    await waitFor(async () => ((await leaderOf()).includes('node-a') ? true : undefined), {
      timeoutMs: SLOW_MS,
      what: 'node-a to lead',
    });
    b = await startTestCentral(
      { type: 'postgres', url: db.url },
      { gatewayId: 'gw-b', cluster: { ...CLUSTER, node_id: 'node-b' }, detection: DETECTION },
    );
    gw = await startTestGateway({
      linkUrl: b.central.linkUrl(),
      gatewayId: 'gw-b',
      privateKey: b.privateKey,
    });
  });

  after(async () => {
    await gw?.stop().catch(() => undefined);
    await a?.central.stop();
    await b?.central.stop();
    await client?.end().catch(() => undefined);
    await db?.drop();
  });

  it('counts each hit once across the hand-over', async (t) => {
    if (!db) return skipUnmet(t);
    const res = await fetch(`${a!.central.url()}/api/rules?target=central`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a!.apiToken}`, 'content-type': 'text/yaml' },
      body: RULE_YAML,
    });
    assert.equal(res.status, 201, await res.text());
    // Until node-a runs the rule (one probe per try, on a host of its own).
    await waitFor(
      async () => {
        if ((await countOf('warm-up')).length > 0) return true;
        await gw.emit([probe('warm-up')]);
        return undefined;
      },
      { timeoutMs: SLOW_MS, intervalMs: 500, what: 'node-a to run the uploaded rule' },
    );

    // Two hits on h1: raised (1), then node-a's timer closes the group and adds the repeat (2).
    await gw.emit([probe('h1'), probe('h1')]);
    await waitFor(async () => ((await countOf('h1'))[0] === 2 ? true : undefined), {
      timeoutMs: SLOW_MS,
      what: "node-a to close h1's group",
    });
    // One hit on h2, raised by node-a; then its cursor back before that row (a death after COMMIT).
    await gw.emit([probe('h2')]);
    await waitFor(
      async () => ((await countOf('h2'))[0] === 1 && (await unhandled()) === 0 ? true : undefined),
      {
        timeoutMs: SLOW_MS,
        what: 'node-a to raise h2 and move its cursor',
      },
    );
    const { rows } = await client.query<{ id: string }>(
      `SELECT min(f.id)::text AS id FROM event_feed f, events e
        WHERE e.host = 'h2' AND (e.gateway, e.seq) IN (SELECT * FROM unnest(f.gateways, f.seqs))`,
    );
    await client.query("UPDATE cluster_cursors SET id = $1 WHERE name = 'correlation'", [
      Number(rows[0]!.id) - 1,
    ]);

    await a!.central.stop();
    a = undefined;
    await waitFor(async () => ((await leaderOf()).includes('node-b') ? true : undefined), {
      timeoutMs: SLOW_MS,
      what: 'node-b to take over',
    });
    await gw.emit([probe('h3')]);
    await waitFor(async () => ((await countOf('h3')).length > 0 ? true : undefined), {
      timeoutMs: SLOW_MS,
      what: 'node-b to raise h3',
    });
    // h2: the hit node-a raised before it died, counted once; h1: the group node-a closed, not again.
    assert.deepEqual({ h1: await countOf('h1'), h2: await countOf('h2') }, { h1: [2], h2: [1] });
  });
});
