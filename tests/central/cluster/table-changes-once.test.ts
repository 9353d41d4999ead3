/**
 * Each change of a cached table reloads once per node (central/store/table-changes.ts, the
 * cluster bus): two central nodes on one PostgreSQL write central rules in turn, the first two
 * writes at the same time. The writing node reloads its detection when its write commits and skips
 * its own notice when the bus hears it; the other node reloads on the notice. No change is lost:
 * both nodes end up running every rule.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { type BuiltCentral, buildCentral } from '../../../central/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { skipUnmet, waitFor } from '../../support/env.ts';
import { requirePostgres, type TempDatabase } from '../../support/postgres.ts';

const rule = (n: number) => `title: Reload probe ${n}
id: 6c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4${String(n).padStart(2, '0')}
status: test
logsource:
  product: syslog
detection:
  selection:
    action: syslog.reload.probe${n}
  condition: selection
level: high
`;

interface Node {
  central: BuiltCentral;
  store: EventStore;
  /** Reloads of central's rules by the detection since the test began. */
  reloads: number;
  upload(n: number): Promise<void>;
}

describe('a table change reloads once per node', () => {
  let db: TempDatabase | undefined;
  const nodes: Node[] = [];
  const token = newToken();

  async function startNode(id: string): Promise<Node> {
    const store = await createPostgresStore({ connectionString: db!.url, poolMax: 4 });
    await store.init(new Date());
    const config = centralConfigSchema.parse({
      storage: { type: 'postgres', url: db!.url },
      cluster: { enabled: true, node_id: id, heartbeat_interval_secs: 0.3, feed_poll_interval_ms: 50 },
    });
    const central = await buildCentral(config, store, {
      metrics: createCentralMetrics({ processMetrics: false }),
      logger: createLogger('silent'),
      apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
    });
    await central.detection.reloadFrom(central.rules);
    const node: Node = {
      central,
      store,
      reloads: 0,
      async upload(n) {
        const res = await central.app.request('/api/rules?target=central', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/yaml' },
          body: rule(n),
        });
        assert.equal(res.status, 201, await res.text());
      },
    };
    // What the table notice subscription calls (central/index.ts), counted.
    const reloadFrom = central.detection.reloadFrom.bind(central.detection);
    central.detection.reloadFrom = (rules) => {
      node.reloads += 1;
      return reloadFrom(rules);
    };
    return node;
  }

  before(async (t) => {
    db = await requirePostgres(t as never);
    if (!db) return;
    nodes.push(await startNode('node-a'), await startNode('node-b'));
  });

  after(async () => {
    for (const n of nodes) {
      await n.central.stop();
      await n.store.close();
    }
    await db?.drop();
  });

  it('reloads the writer once and the other node once for each change', async (t) => {
    if (!db) return skipUnmet(t);
    const [a, b] = nodes as [Node, Node];
    const base = a.central.detection.rules;
    assert.equal(b.central.detection.rules, base);
    /**
     * Once `node` runs `count` more rules and has been asked to reload `reloads` times. Both: the
     * reload queued for one change may run after a later change committed (central/index.ts does
     * not wait for it), so the rules can be there before the last change's notice is.
     */
    const runs = (node: Node, count: number, what: string, reloads = 0) =>
      waitFor(
        () => (node.central.detection.rules === base + count && node.reloads >= reloads ? true : undefined),
        { timeoutMs: 30_000, what },
      );
    // Two writes at once, one on each node; then one on node-a, seen by node-b.
    await Promise.all([a.upload(1), b.upload(2)]);
    await a.upload(3);
    await runs(b, 3, 'node-b to run the three rules', 3);
    // node-b: node-a's two changes, heard, and its own, when it committed.
    assert.equal(b.reloads, 3, 'node-b reloads once per change');
    // One more on node-b, so that node-a has heard everything before it.
    await b.upload(4);
    await runs(a, 4, 'node-a to run the four rules', 4);
    assert.equal(a.reloads, 4, 'node-a reloads once per change');
    await runs(b, 4, 'node-b to run the four rules');
  });
});
