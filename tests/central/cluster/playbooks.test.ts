/**
 * Response playbooks across central nodes (issue 22 ask 2, central/cluster + central/playbooks):
 * two nodes in this process on one PostgreSQL, the gateway connected to node-b only, everything
 * asked of node-a. A playbook set pushed by node-a reaches the gateway; a block approved on node-a
 * is sent by node-b and its result recorded; its undo, requested on node-a, lifts the block on the
 * gateway and is recorded; a command announced again (a duplicate NOTIFY) is not applied twice;
 * a playbook created on node-b is matched by node-a, which holds no gateway, at once (every node
 * drops its cached list on the change notice).
 * Also: the leader's cursor read of the event feed uses migration 018's index.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CLUSTER_CHANNEL } from '../../../central/cluster/bus.ts';
import { skipUnmet, waitFor } from '../../support/env.ts';
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
/** Waits are for events, never fixed sleeps; this bounds them on a loaded machine. */
const SLOW = { timeoutMs: 120_000, intervalMs: 100 };
const BLOCKED = '192.0.2.77';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
describe('response playbooks across central nodes', () => {
  let db: TempDatabase | undefined;
  let client: pg.Client;
  let a: TestCentral | undefined;
  let b: TestCentral | undefined;
  let gw: TestGateway | undefined;

  /** An API call on node-a, the node the gateway is not connected to. */
  const onA = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${a!.central.url()}${p}`, {
      method,
      headers: { authorization: `Bearer ${a!.apiToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };

  /** The gateway's audit events for command `id`, as stored on central. */
  const commandEvents = async (id: string) =>
    (
      await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events
          WHERE gateway = 'gw-b' AND action = 'gateway.playbook_action' AND fields->>'command_id' = $1`,
        [id],
      )
    ).rows[0]!.n;

  before(async (t) => {
    db = await requirePostgres(t as never);
    if (!db) return;
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    a = await startTestCentral(
      { type: 'postgres', url: db.url },
      { gatewayId: 'gw-a', cluster: { ...CLUSTER, node_id: 'node-a' } },
    );
    b = await startTestCentral(
      { type: 'postgres', url: db.url },
      { gatewayId: 'gw-b', cluster: { ...CLUSTER, node_id: 'node-b' } },
    );
    gw = await startTestGateway({
      linkUrl: b.central.linkUrl(),
      gatewayId: 'gw-b',
      privateKey: b.privateKey,
    });
    // node-a learns from node-b's heartbeat that gw-b is there.
    await waitFor(
      async () => {
        const rows = ((await a!.api('/api/gateways')).body as any).gateways as any[];
        return rows.find((r) => r.id === 'gw-b')?.connected ? true : undefined;
      },
      { ...SLOW, what: 'node-a to see gw-b connected to node-b' },
    );
  });

  after(async () => {
    await gw?.stop().catch(() => undefined);
    await a?.central.stop();
    await b?.central.stop();
    await client?.end().catch(() => undefined);
    await db?.drop();
  });

  it('a playbook set pushed by node-a reaches the gateway on node-b', async (t) => {
    if (!db) return skipUnmet(t);
    const created = await onA('POST', '/api/playbooks', {
      id: 'edge-block',
      name: 'Block at the edge',
      match: { rule_ids: ['edge-rule'] },
      actions: [{ type: 'mqtt_block_address', expire_secs: 3600 }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const running = await waitFor(
      () => {
        const set = gw!.gateway.playbooks.running();
        return set?.playbooks.some((p) => p.id === 'edge-block') ? set : undefined;
      },
      { ...SLOW, what: 'the set on the gateway' },
    );
    // The push was audited as sent (relayed to node-b), not as waiting for a reconnection.
    const { rows } = await client.query<{ detail: { gateways: Array<{ id: string; sent: boolean }> } }>(
      "SELECT detail FROM playbook_audit WHERE what = 'pushed' ORDER BY id DESC LIMIT 1",
    );
    assert.deepEqual(
      rows[0]?.detail.gateways.find((g) => g.id === 'gw-b'),
      { id: 'gw-b', version: running.version, sent: true },
    );
    assert.equal(running.playbooks.length, 1);
  });

  it('a block approved on node-a is sent by node-b, recorded, undone from node-a, and never applied twice', async (t) => {
    if (!db) return skipUnmet(t);
    assert.equal(
      (
        await onA('POST', '/api/playbooks', {
          id: 'approve-block',
          name: 'Block a named address after approval',
          approval: true,
          match: { rule_ids: ['manual-block'] },
          actions: [{ type: 'mqtt_block_address', address: BLOCKED }],
        })
      ).status,
      201,
    );
    const raised = await onA('POST', '/api/alerts', {
      rule: { id: 'manual-block', title: 'Analyst: block this address', level: 'high' },
      entity: { host: 'broker', gateway: 'gw-b' },
    });
    assert.equal(raised.status, 201, JSON.stringify(raised.body));
    const pending = await waitFor(
      async () => (await onA('GET', '/api/playbook-runs?playbook=approve-block&status=pending')).body.runs[0],
      { ...SLOW, what: 'the pending run' },
    );
    assert.equal(gw!.gateway.controls.list().length, 0, 'nothing before approval');
    assert.equal((await onA('POST', `/api/playbook-runs/${pending.id}/approve`)).status, 200);
    const done = await waitFor(
      async () => {
        const r = (await onA('GET', `/api/playbook-runs/${pending.id}`)).body;
        return r.status === 'done' ? r : undefined;
      },
      { ...SLOW, what: 'the command answered by the gateway on node-b' },
    );
    const action = done.actions[0];
    assert.equal(action.status, 'succeeded');
    const entry = gw!.gateway.controls.get(action.undo.entry);
    assert.deepEqual([entry?.value, entry?.by], [BLOCKED, `central:a-${action.id}`]);

    // The same command announced again (a NOTIFY repeated or replayed): node-b must not send it.
    await client.query('SELECT pg_notify($1, $2)', [
      CLUSTER_CHANNEL,
      JSON.stringify({ type: 'command', gateway: 'gw-b', command_id: `a-${action.id}`, from: 'node-x' }),
    ]);

    // The undo, requested on node-a, goes through node-b (after the duplicate, on the same chain).
    const undo = await onA('POST', `/api/playbook-actions/${action.id}/undo`);
    assert.equal(undo.status, 200, JSON.stringify(undo.body));
    await waitFor(
      async () => {
        const r = (await onA('GET', `/api/playbook-runs/${pending.id}`)).body;
        return r.actions.find((x: any) => x.id === action.id)?.status === 'undone' ? true : undefined;
      },
      { ...SLOW, what: 'the undo confirmed by the gateway on node-b' },
    );
    assert.equal(gw!.gateway.controls.get(action.undo.entry), undefined, 'the block is lifted');
    // The gateway audits each command it carries out, in order: the undo's event stored means any
    // duplicate apply (sent before it) would be stored too.
    await waitFor(async () => ((await commandEvents(`u-${action.id}`)) === 1 ? true : undefined), {
      ...SLOW,
      what: "the gateway's audit event of the undo",
    });
    assert.equal(await commandEvents(`a-${action.id}`), 1, 'the block was applied once');
  });

  it('a playbook created on node-b is in force on node-a at once, which holds no gateway', async (t) => {
    if (!db) return skipUnmet(t);
    // node-a holds no gateway, so no playbook set is relayed to it: only the change notice
    // tells it that its cached list is stale.
    const raiseOnA = (host: string) =>
      onA('POST', '/api/alerts', {
        rule: { id: 'cache-probe', title: 'Rule cache-probe', level: 'high' },
        entity: { host },
      });
    // node-a matches an alert against its playbooks: it now holds the list in its cache.
    assert.equal((await raiseOnA('host-0')).status, 201);
    const created = await fetch(`${b!.central.url()}/api/playbooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${b!.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'seen-on-a',
        name: 'Open an incident for the probe',
        match: { rule_ids: ['cache-probe'] },
        actions: [{ type: 'open_incident' }],
      }),
    });
    assert.equal(created.status, 201, await created.text());
    // A new alert on node-a (each try another host, so a new alert) runs the new playbook.
    let n = 0;
    const run = await waitFor(
      async () => {
        const runs = (await onA('GET', '/api/playbook-runs?playbook=seen-on-a')).body.runs;
        if (runs.length > 0) return runs[0];
        if (n < 20) assert.equal((await raiseOnA(`host-${++n}`)).status, 201);
        return undefined;
      },
      { ...SLOW, intervalMs: 500, what: "node-a to run node-b's new playbook" },
    );
    assert.ok(n <= 6, `node-a ran it after ${n} alerts`);
    assert.equal(run.trigger, 'central');
  });

  it("reads the leader's feed cursor through the id index (migration 018)", async (t) => {
    if (!db) return skipUnmet(t);
    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        'EXPLAIN SELECT id FROM event_feed WHERE id > 10 ORDER BY id LIMIT 500',
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /event_feed_id_idx/, plan);
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
