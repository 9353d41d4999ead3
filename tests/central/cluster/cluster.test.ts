/**
 * Several central nodes on one PostgreSQL (issue 22 ask 2, central/cluster): two nodes in this
 * process, three gateways spread over them. A brute force whose failures arrive through gateways
 * on different nodes is correlated once, by the leader; the alert reaches the live stream of the
 * node that did not raise it; a rule push on one node reaches a gateway on the other; the fleet
 * view of either node shows every gateway; a central rule uploaded on the other node runs on the
 * leader at once (the rules table's change notice); and when the leader stops, the other node takes over
 * with the windows the first had open (a brute force begun before the hand-over completes after
 * it), without raising again what was raised before.
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

const CROSS_RULE = '7a1d0c55-3b2e-4c9a-8f10-2d6e9b4c0a02';
const CLUSTER = {
  enabled: true,
  heartbeat_interval_secs: 0.3,
  feed_poll_interval_ms: 50,
  node_timeout_secs: 5,
};
/** Waits are for events, never fixed sleeps; this bounds them on a loaded machine. */
const SLOW_MS = 60_000;
const DETECTION = { rules_dirs: [path.join(REPO_ROOT, 'rules', 'central')] };

function sshFailure(ip: string, host: string, i: number): PendingEvent {
  const ts = new Date(Date.now() + i).toISOString();
  return {
    ts,
    received: ts,
    source: 'syslog',
    kind: 'security',
    action: 'syslog.sshd.auth_failure',
    severity: 5,
    message: `Failed password for root from ${ip} port ${4000 + i} ssh2`,
    host,
    src: { ip },
    fields: {},
    tags: [],
  };
}

/** A central rule uploaded through node-b in the test; an event of this action matches it. */
const PROBE_RULE = '7a1d0c55-3b2e-4c9a-8f10-2d6e9b4c0aff';
const PROBE_YAML = `title: Cluster rule reload probe
id: ${PROBE_RULE}
status: test
logsource:
  product: syslog
detection:
  selection:
    action: syslog.cluster.probe
  condition: selection
level: high
`;

type AlertRow = { id: number; rule_id: string; entity: string; count: number; gateway: string | null };

/** The cross-gateway alerts on hosts of `hosts` (its entity is the host of the event that completed it). */
async function crossAlerts(c: TestCentral, hosts: readonly string[]): Promise<AlertRow[]> {
  const { status, body } = await c.api('/api/alerts?limit=200');
  assert.equal(status, 200, JSON.stringify(body));
  return (body as { alerts: AlertRow[] }).alerts.filter(
    (a) => a.rule_id === CROSS_RULE && hosts.includes(a.entity),
  );
}

const FIRST_HOSTS = ['hmi-a', 'hmi-b', 'hmi-c'];
const SECOND_HOSTS = ['hmi-x', 'hmi-y'];

/** The `alert` messages of one node's GET /api/stream, as they arrive. */
function openStream(c: TestCentral) {
  const alerts: AlertRow[] = [];
  const abort = new AbortController();
  const done = (async () => {
    const res = await fetch(`${c.central.url()}/api/stream`, {
      headers: { authorization: `Bearer ${c.apiToken}` },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.startsWith('event: alert\n')) continue;
        alerts.push(JSON.parse(block.slice(block.indexOf('data: ') + 6)) as AlertRow);
      }
    }
  })().catch(() => undefined);
  return {
    alerts,
    close: async () => {
      abort.abort();
      await done;
    },
  };
}

describe('several central nodes on one PostgreSQL', () => {
  let db: TempDatabase | undefined;
  let client: pg.Client;
  let a: TestCentral | undefined;
  let b: TestCentral;
  const gateways: TestGateway[] = [];
  let ga: TestGateway;
  let gb: TestGateway;
  let gc: TestGateway;

  const leaderOf = async () => {
    const { rows } = await client.query<{ node: string }>('SELECT node FROM cluster_nodes WHERE leader');
    return rows.map((r) => r.node);
  };

  before(async (t) => {
    db = await requirePostgres(t as never);
    if (!db) return;
    client = new pg.Client({ connectionString: db.url });
    a = await startTestCentral(
      { type: 'postgres', url: db.url },
      { gatewayId: 'gw-a', cluster: { ...CLUSTER, node_id: 'node-a' }, detection: DETECTION },
    );
    await client.connect();
    // node-a starts first and so leads; node-b follows.
    await waitFor(async () => ((await leaderOf()).includes('node-a') ? true : undefined), {
      timeoutMs: SLOW_MS,
      what: 'node-a to lead',
    });
    b = await startTestCentral(
      { type: 'postgres', url: db.url },
      { gatewayId: 'gw-b', cluster: { ...CLUSTER, node_id: 'node-b' }, detection: DETECTION },
    );
    const keyC = await b.enroll('gw-c');
    ga = await startTestGateway({
      linkUrl: a.central.linkUrl(),
      gatewayId: 'gw-a',
      privateKey: a.privateKey,
    });
    gb = await startTestGateway({
      linkUrl: b.central.linkUrl(),
      gatewayId: 'gw-b',
      privateKey: b.privateKey,
    });
    gc = await startTestGateway({ linkUrl: b.central.linkUrl(), gatewayId: 'gw-c', privateKey: keyC });
    gateways.push(ga, gb, gc);
  });

  after(async () => {
    for (const g of gateways) await g.stop().catch(() => undefined);
    await a?.central.stop();
    await b?.central.stop();
    await client?.end().catch(() => undefined);
    await db?.drop();
  });

  it('correlates a brute force through gateways on two nodes once, and both live streams show it', async (t) => {
    if (!db) return skipUnmet(t);
    const streamA = openStream(a!);
    const streamB = openStream(b);
    try {
      const ip = '192.0.2.10';
      // Three failures through each gateway, on node-a and node-b.
      await ga.emit([0, 1, 2].map((i) => sshFailure(ip, 'hmi-a', i)));
      await gb.emit([0, 1, 2].map((i) => sshFailure(ip, 'hmi-b', i)));
      await gc.emit([0, 1, 2].map((i) => sshFailure(ip, 'hmi-c', i)));
      const stored = await waitFor(
        async () => {
          const { rows } = await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM events WHERE src_ip = $1 AND action = 'syslog.sshd.auth_failure'",
            [ip],
          );
          return rows[0]!.n === 9 ? 9 : undefined;
        },
        { timeoutMs: SLOW_MS, what: 'the nine failures stored' },
      );
      assert.equal(stored, 9);
      // Handled by the leader: the feed cursor has passed every row.
      await waitFor(
        async () => {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM event_feed f
              WHERE f.id > (SELECT id FROM cluster_cursors WHERE name = 'correlation')`,
          );
          return rows[0]!.n === 0 ? true : undefined;
        },
        { timeoutMs: SLOW_MS, what: 'the leader to handle the feed' },
      );
      const alerts = await waitFor(
        async () => {
          const rows = await crossAlerts(b, FIRST_HOSTS);
          return rows.length > 0 ? rows : undefined;
        },
        { timeoutMs: SLOW_MS, what: 'the cross-gateway alert' },
      );
      assert.equal(alerts.length, 1, 'one cross-gateway alert, raised once');
      assert.deepEqual(
        (await crossAlerts(a!, FIRST_HOSTS)).map((r) => r.id),
        [alerts[0]!.id],
        'the same alert from either node',
      );
      // The stream of node-b, which did not raise it, shows it as well as node-a's.
      for (const [name, s] of [
        ['node-a', streamA],
        ['node-b', streamB],
      ] as const) {
        await waitFor(() => (s.alerts.some((x) => x.id === alerts[0]!.id) ? true : undefined), {
          timeoutMs: SLOW_MS,
          what: `the alert on the live stream of ${name}`,
        });
      }
    } finally {
      await streamA.close();
      await streamB.close();
    }
  });

  it('shows every gateway on either node, and a rule push on node-a reaches a gateway on node-b', async (t) => {
    if (!db) return skipUnmet(t);
    type Row = { id: string; connected: boolean; rules: { running_version: string | null } | null };
    const rowsOf = async (c: TestCentral) =>
      ((await c.api('/api/gateways')).body as { gateways: Row[] }).gateways;
    await waitFor(
      async () => {
        const rows = await rowsOf(a!);
        return ['gw-a', 'gw-b', 'gw-c'].every((id) => rows.find((r) => r.id === id)?.connected)
          ? true
          : undefined;
      },
      { timeoutMs: SLOW_MS, what: 'node-a to show the gateways of node-b connected' },
    );

    const res = await fetch(`${a!.central.url()}/api/rules/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a!.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ gateways: ['gw-c'] }),
    });
    const body = (await res.json()) as { version: string; gateways: Array<{ id: string; sent: boolean }> };
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.deepEqual(body.gateways, [{ id: 'gw-c', sent: true }]);
    await waitFor(
      async () =>
        (await rowsOf(b)).find((r) => r.id === 'gw-c')?.rules?.running_version === body.version
          ? true
          : undefined,
      { timeoutMs: SLOW_MS, what: 'gw-c (on node-b) to run the set pushed through node-a' },
    );
  });

  it('runs a central rule uploaded on node-b on the leader, node-a, at once', async (t) => {
    if (!db) return skipUnmet(t);
    assert.deepEqual(await leaderOf(), ['node-a']);
    const res = await fetch(`${b.central.url()}/api/rules?target=central`, {
      method: 'POST',
      headers: { authorization: `Bearer ${b.apiToken}`, 'content-type': 'text/yaml' },
      body: PROBE_YAML,
    });
    assert.equal(res.status, 201, await res.text());
    // A probe event through gw-b (on node-b) per try; the leader's detection reads the feed.
    let n = 0;
    const raised = await waitFor(
      async () => {
        const { body } = await b.api('/api/alerts?limit=200');
        const hit = (body as { alerts: AlertRow[] }).alerts.find((x) => x.rule_id === PROBE_RULE);
        if (hit) return hit;
        await gb.emit([{ ...sshFailure('192.0.2.30', 'probe-host', n++), action: 'syslog.cluster.probe' }]);
        return undefined;
      },
      { timeoutMs: SLOW_MS, intervalMs: 500, what: 'node-a to run the rule uploaded on node-b' },
    );
    assert.ok(n <= 30, `raised after ${n} probes`);
    assert.equal(raised.entity, 'probe-host');
  });

  it('hands over when the leader stops: windows open before are completed after, nothing raised twice', async (t) => {
    if (!db) return skipUnmet(t);
    const ip = '192.0.2.20';
    const first = await crossAlerts(b, FIRST_HOSTS);
    // One failure through gw-c; the leader (node-a) handles it and so opens its window.
    await gc.emit([sshFailure(ip, 'hmi-x', 0)]);
    await waitFor(
      async () => {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM event_feed f
            WHERE f.id > (SELECT id FROM cluster_cursors WHERE name = 'correlation')
               OR NOT EXISTS (SELECT 1 FROM events WHERE src_ip = $1)`,
          [ip],
        );
        return rows[0]!.n === 0 ? true : undefined;
      },
      { timeoutMs: SLOW_MS, what: 'node-a to handle the first failure' },
    );
    assert.deepEqual(await crossAlerts(b, SECOND_HOSTS), [], 'one gateway alone raises nothing');

    await ga.stop();
    await a!.central.stop();
    a = undefined;
    await waitFor(async () => ((await leaderOf()).includes('node-b') ? true : undefined), {
      timeoutMs: SLOW_MS,
      what: 'node-b to take over',
    });
    // The second gateway's failure completes the window node-a had open.
    await gb.emit([sshFailure(ip, 'hmi-y', 1)]);
    const raised = await waitFor(
      async () => {
        const rows = await crossAlerts(b, SECOND_HOSTS);
        return rows.length > 0 ? rows : undefined;
      },
      { timeoutMs: SLOW_MS, what: 'the cross-gateway alert raised by node-b' },
    );
    assert.equal(raised.length, 1);
    // What node-a raised is not raised or counted again by node-b's replay.
    assert.deepEqual(
      (await crossAlerts(b, FIRST_HOSTS)).map((r) => [r.id, r.count]),
      first.map((r) => [r.id, r.count]),
    );
  });
});
