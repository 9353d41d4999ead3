/**
 * Fault test of several central nodes (issue 22 ask 3): two real `siem-central run` processes on
 * one PostgreSQL (`cluster.enabled`), three real `siem-gateway run` processes spread over them,
 * each fed a continuous TCP syslog stream and listing both nodes in `central.endpoints` (ask 1):
 * gw-1 and gw-2 prefer node-a, gw-3 node-b. A brute force from one address begins behind gw-1;
 * node-a, the correlation leader, handles it and is then killed with SIGKILL while the streams
 * run. gw-1 and gw-2 fail over to node-b by themselves, node-b takes the lead with the windows
 * node-a had open (replayed from the event feed), and the brute force completes behind gw-2 and
 * gw-3: the cross-gateway alert is raised exactly once and names the failures seen before the
 * kill. node-a comes back and takes its gateways again (failback). At the end every gateway's
 * sequence is stored gap-free and exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { enrollGateway } from '../../gateway/enroll.ts';
import {
  type GatewayServer,
  type ServerProcess,
  startCentralProcess,
  startGatewayProcess,
} from '../soak/processes.ts';
import { freePort, REPO_ROOT, skipUnmet, waitFor } from '../support/env.ts';
import { queuedEvents } from '../support/gateway-metrics.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';

const CROSS_RULE = '7a1d0c55-3b2e-4c9a-8f10-2d6e9b4c0a02';
const ATTACKER = '192.0.2.66';

type Node = ServerProcess & { url: string; linkUrl: string };

interface Gw {
  id: string;
  dir: string;
  syslogPort: number;
  proc?: GatewayServer;
  /** The node it prefers (the first of its endpoints). */
  node: 'node-a' | 'node-b';
}

/** One line after another into a gateway's TCP syslog source, reconnecting while it restarts. */
function startSender(gw: Gw, perSecond: number) {
  let running = true;
  let sent = 0;
  const done = (async () => {
    while (running) {
      const socket = net.connect(gw.syslogPort, '127.0.0.1');
      const open = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('error', () => resolve(false));
      });
      if (!open) {
        socket.destroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      let broken = false;
      socket.on('error', () => (broken = true));
      socket.on('close', () => (broken = true));
      while (running && !broken) {
        for (let i = 0; i < perSecond / 10 && !broken; i += 1) {
          socket.write(`<13>1 ${new Date().toISOString()} plc-${gw.id} app - - - stream ${gw.id} ${sent}\n`);
          sent += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      socket.end();
    }
  })();
  return {
    sent: () => sent,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** SSH failures from the attacker, written to a gateway's syslog source on a connection of their own. */
async function bruteForce(gw: Gw, host: string, count: number): Promise<void> {
  const socket = net.connect(gw.syslogPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  for (let i = 0; i < count; i += 1) {
    socket.write(
      `<38>1 ${new Date().toISOString()} ${host} sshd 1 - - Failed password for root from ${ATTACKER} port ${5000 + i} ssh2\n`,
    );
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

describe('two central nodes, three gateways, SIGKILL of the leader mid-stream', () => {
  let db: TempDatabase | undefined;
  let client: pg.Pool;
  let work: string;
  const apiToken = newToken();
  const nodes: Partial<Record<'node-a' | 'node-b', Node>> = {};
  const ports: Record<string, number> = {};
  const gateways: Gw[] = [];

  const configFile = (node: 'node-a' | 'node-b') => path.join(work, `${node}.yaml`);

  const startNode = async (node: 'node-a' | 'node-b') => {
    nodes[node] = await startCentralProcess(configFile(node));
    return nodes[node];
  };

  const startGw = async (gw: Gw) => {
    const other = gw.node === 'node-a' ? 'node-b' : 'node-a';
    const file = path.join(gw.dir, 'gateway.yaml');
    writeFileSync(
      file,
      [
        `gateway: { id: ${gw.id}, data_dir: ${gw.dir} }`,
        `sources: { tcp: { type: syslog, mode: tcp, listen: "127.0.0.1:${gw.syslogPort}" } }`,
        `central: { endpoints: ["ws://127.0.0.1:${ports[gw.node]}/link", "ws://127.0.0.1:${ports[other]}/link"],`,
        '  initial_backoff_secs: 0.05, max_backoff_secs: 0.5, failback: { check_interval_secs: 0.5, healthy_checks: 2 } }',
        'http: { listen: "127.0.0.1:0" }',
        'log: { level: error }',
      ].join('\n'),
    );
    gw.proc = await startGatewayProcess(file, false);
  };

  /** The gateways node `node` reports connected in its heartbeat row. */
  const connectedTo = async (node: string): Promise<string[]> => {
    const { rows } = await client.query<{ gateways: Array<{ gateway: string }> }>(
      "SELECT gateways FROM cluster_nodes WHERE node = $1 AND heartbeat_at > now() - interval '5 seconds'",
      [node],
    );
    return rows[0]?.gateways.map((g) => g.gateway).sort() ?? [];
  };

  const leader = async (): Promise<string | undefined> => {
    // A fresh heartbeat row only: a killed node's row says leader until it goes stale.
    const { rows } = await client.query<{ node: string }>(
      `SELECT node FROM cluster_nodes WHERE leader AND heartbeat_at > now() - interval '3 seconds'`,
    );
    return rows[0]?.node;
  };

  const crossAlerts = async () =>
    (
      await client.query<{ id: string; count: number; event_ids: string[] }>(
        'SELECT id, count, event_ids FROM alerts WHERE rule_id = $1',
        [CROSS_RULE],
      )
    ).rows;

  before(async (t) => {
    db = await requirePostgres(t as never);
    if (!db) return;
    work = mkdtempSync(path.join(tmpdir(), 'siem-cluster-'));
    client = new pg.Pool({ connectionString: db.url, max: 4 });
    // An idle connection's error is an 'error' event of the pool: unhandled, it would end the file
    // after its test passed. The next query reconnects.
    client.on('error', (error) => console.error(`test pool: ${error.message}`));
    for (const node of ['node-a', 'node-b'] as const) {
      ports[node] = await freePort();
      writeFileSync(
        configFile(node),
        [
          `http: { listen: "127.0.0.1:${ports[node]}" }`,
          `storage: { type: postgres, url: "${db.url}" }`,
          `api: { tokens: [{ name: test, token_sha256: ${sha256Hex(apiToken)} }] }`,
          `detection: { rules_dirs: ["${path.join(REPO_ROOT, 'rules', 'central')}"] }`,
          `cluster: { enabled: true, node_id: ${node}, heartbeat_interval_secs: 0.5, feed_poll_interval_ms: 100 }`,
          'link: { heartbeat_interval_secs: 2 }',
          'log: { level: warn }',
        ].join('\n'),
      );
    }
  });

  const senders: Array<ReturnType<typeof startSender>> = [];

  after(async () => {
    for (const s of senders) await s.stop();
    for (const gw of gateways) await gw.proc?.stop(10_000);
    for (const node of Object.values(nodes)) await node?.stop(10_000);
    await client?.end().catch(() => undefined);
    await db?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(
    'raises the cross-gateway alert once, loses and repeats nothing, and takes the node back',
    { timeout: 600_000 },
    async (t) => {
      if (!db) return skipUnmet(t);
      // node-a first, so that it leads; then node-b.
      await startNode('node-a');
      await waitFor(async () => ((await leader()) === 'node-a' ? true : undefined), {
        what: 'node-a to lead',
        timeoutMs: 60_000,
      });
      await startNode('node-b');

      // Enrolled through either node: any node accepts any gateway.
      for (const [id, node] of [
        ['gw-1', 'node-a'],
        ['gw-2', 'node-a'],
        ['gw-3', 'node-b'],
      ] as const) {
        const res = await fetch(`${nodes[node]!.url}/api/enrollment-tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ gateway_id: id }),
        });
        assert.equal(res.status, 201, await res.clone().text());
        const { token } = (await res.json()) as { token: string };
        const dir = mkdtempSync(path.join(work, `${id}-`));
        await enrollGateway({
          central: nodes[node]!.url,
          token,
          gatewayId: id,
          credentialsFile: path.join(dir, 'credentials.json'),
        });
        const gw: Gw = { id, dir, syslogPort: await freePort(), node };
        gateways.push(gw);
        await startGw(gw);
      }
      const [gw1, gw2, gw3] = gateways as [Gw, Gw, Gw];
      await waitFor(async () => ((await connectedTo('node-a')).join() === 'gw-1,gw-2' ? true : undefined), {
        what: 'gw-1 and gw-2 on node-a',
        timeoutMs: 60_000,
      });
      senders.push(...gateways.map((gw) => startSender(gw, 200)));
      const storedOf = async (gateway: string) =>
        (
          await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE gateway = $1', [
            gateway,
          ])
        ).rows[0]!.n;
      await waitFor(
        async () =>
          (await Promise.all(gateways.map((g) => storedOf(g.id)))).every((n) => n > 100) ? true : undefined,
        {
          what: 'every stream flowing into central',
          timeoutMs: 60_000,
        },
      );

      // The brute force begins behind gw-1, on node-a, which handles it as the leader.
      await bruteForce(gw1, 'hmi-1', 3);
      await waitFor(
        async () => {
          const { rows } = await client.query<{ handled: boolean }>(
            `SELECT count(*) = 3 AND bool_and(EXISTS (
                    SELECT 1 FROM event_feed f CROSS JOIN LATERAL unnest(f.gateways, f.seqs) AS u(g, s), cluster_cursors c
                     WHERE c.name = 'correlation' AND f.id <= c.id AND u.g = e.gateway AND u.s = e.seq
                  )) AS handled
             FROM events e WHERE e.gateway = 'gw-1' AND e.src_ip = $1 AND e.action = 'syslog.sshd.auth_failure'`,
            [ATTACKER],
          );
          return rows[0]?.handled ? true : undefined;
        },
        { what: 'node-a to handle the first failures', timeoutMs: 60_000 },
      ).catch(async (error: Error) => {
        const state = await client.query(
          `SELECT (SELECT json_agg(json_build_object('seq', seq, 'action', action, 'src', src_ip)) FROM events
                    WHERE gateway = 'gw-1' AND message LIKE 'Failed%') AS failures,
                  (SELECT row_to_json(c) FROM cluster_cursors c) AS cursor,
                  (SELECT count(*) FROM event_feed) AS feed,
                  (SELECT json_agg(json_build_object('node', node, 'leader', leader, 'at', heartbeat_at)) FROM cluster_nodes) AS nodes`,
        );
        throw new Error(`${error.message}: ${JSON.stringify(state.rows[0])}`);
      });
      assert.deepEqual(await crossAlerts(), [], 'one gateway alone raises nothing');

      // SIGKILL of node-a while every stream runs.
      await nodes['node-a']!.kill();
      const killedAt = Date.now();
      // gw-1 and gw-2 fail over to node-b by themselves (central.endpoints).
      await waitFor(
        async () => ((await connectedTo('node-b')).join() === 'gw-1,gw-2,gw-3' ? true : undefined),
        {
          what: 'every gateway on node-b',
          timeoutMs: 60_000,
        },
      );
      const movedMs = Date.now() - killedAt;
      await waitFor(async () => ((await leader()) === 'node-b' ? true : undefined), {
        what: 'node-b to lead',
        timeoutMs: 60_000,
      });
      t.diagnostic(
        `every gateway on node-b ${movedMs} ms after the SIGKILL; node-b leading after ${Date.now() - killedAt} ms`,
      );

      // The brute force goes on behind gw-2 and gw-3, now both on node-b.
      await bruteForce(gw2, 'hmi-2', 3);
      await bruteForce(gw3, 'hmi-3', 3);
      const alerts = await waitFor(
        async () => {
          const rows = await crossAlerts();
          return rows.length > 0 ? rows : undefined;
        },
        { what: 'the cross-gateway alert', timeoutMs: 60_000 },
      );

      // node-a comes back, as a follower, and takes its gateways again (failback).
      await startNode('node-a');
      await waitFor(async () => ((await connectedTo('node-a')).join() === 'gw-1,gw-2' ? true : undefined), {
        what: 'gw-1 and gw-2 back on node-a',
        timeoutMs: 60_000,
      });
      const resumed = await storedOf('gw-1');
      await waitFor(async () => ((await storedOf('gw-1')) > resumed + 100 ? true : undefined), {
        what: 'gw-1 storing through node-a again',
        timeoutMs: 60_000,
      });
      assert.equal(await leader(), 'node-b', 'the leader stays where it is');

      for (const s of senders) await s.stop();
      // Drained: every gateway's queue empty, then every sequence gap-free and stored once.
      for (const gw of gateways) {
        await waitFor(async () => ((await queuedEvents(gw.proc!.httpUrl)) === 0 ? true : undefined), {
          what: `${gw.id} to drain`,
          timeoutMs: 120_000,
          intervalMs: 250,
        });
        const counts = await waitFor(
          async () => {
            const { rows } = await client.query<{ total: number; distinct: number; max: number }>(
              'SELECT count(*)::int AS total, count(DISTINCT seq)::int AS distinct, coalesce(max(seq), 0)::int AS max FROM events WHERE gateway = $1',
              [gw.id],
            );
            const r = rows[0]!;
            return r.total === r.max ? r : undefined;
          },
          { what: `${gw.id}: a gap-free sequence`, timeoutMs: 60_000, intervalMs: 500 },
        );
        assert.equal(counts.distinct, counts.total, `${gw.id}: no sequence number stored twice`);
        t.diagnostic(`${gw.id}: ${counts.total} events, seq 1..${counts.max}, none missing or repeated`);
      }
      const failures = await client.query<{ gateway: string; n: number }>(
        "SELECT gateway, count(*)::int AS n FROM events WHERE src_ip = $1 AND action = 'syslog.sshd.auth_failure' GROUP BY gateway ORDER BY gateway",
        [ATTACKER],
      );
      assert.deepEqual(failures.rows, [
        { gateway: 'gw-1', n: 3 },
        { gateway: 'gw-2', n: 3 },
        { gateway: 'gw-3', n: 3 },
      ]);
      // Every feed row handled, and still one alert: neither the hand-over nor node-a's return raised it again.
      await waitFor(
        async () => {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM event_feed f
            WHERE f.id > (SELECT id FROM cluster_cursors WHERE name = 'correlation')`,
          );
          return rows[0]!.n === 0 ? true : undefined;
        },
        { what: 'the leader to handle the whole feed', timeoutMs: 60_000 },
      );
      const final = await crossAlerts();
      assert.equal(final.length, 1, 'the cross-gateway brute force raised once');
      assert.equal(final[0]!.id, alerts[0]!.id);
      assert.ok(
        final[0]!.event_ids.some((id) => id.startsWith('gw-1:')),
        'the alert names the failures behind gw-1',
      );
    },
  );
});
