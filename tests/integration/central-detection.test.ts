/**
 * Detection on central: alerts raised at the edge land in central's alert queue (rule, ATT&CK ids,
 * device, triggering events), and central's own rules (rules/central) see across gateways what no
 * single gateway can: one address brute-forcing SSH behind two gateways.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, skipUnmet, waitFor } from '../support/env.ts';
import { requirePostgres, type TempDatabase } from '../support/postgres.ts';
import { startTestCentral, startTestGateway, type TestCentral } from '../support/stack.ts';

type AlertRow = {
  rule_title: string;
  techniques: string[];
  gateway: string | null;
  count: number;
  event_ids: string[];
};

describe('detection on central', () => {
  let db: TempDatabase | undefined;
  let c: TestCentral;
  before(async (t) => {
    db = await requirePostgres(t as never);
    if (db) {
      c = await startTestCentral(
        { type: 'postgres', url: db.url },
        { detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'central')] } },
      );
    }
  });
  after(async () => {
    await c?.central.stop();
    await db?.drop();
  });

  it('edge alerts reach the alert queue, and a brute force across two gateways is correlated centrally', async (t) => {
    if (!db) return skipUnmet(t);
    const key2 = await c.enroll('gw-site-b');
    const rules = { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] };
    const a = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { detection: rules },
    );
    const b = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: 'gw-site-b', privateKey: key2 },
      { detection: rules },
    );
    const socket = dgram.createSocket('udp4');
    try {
      const now = Date.now();
      for (const [gw, host] of [
        [a, 'hmi-a'],
        [b, 'hmi-b'],
      ] as const) {
        for (let i = 0; i < 6; i += 1) {
          const ts = new Date(now + i * 500).toISOString();
          socket.send(
            `<38>1 ${ts} ${host} sshd 1 - - Failed password for root from 192.0.2.99 port ${6000 + i} ssh2`,
            gw.port('udp'),
            '127.0.0.1',
          );
        }
      }
      const alerts = await waitFor(
        async () => {
          const { status, body } = await c.api('/api/alerts?limit=100');
          if (status !== 200) throw new Error(JSON.stringify(body));
          const rows = (body as { alerts: AlertRow[] }).alerts;
          const edge = rows.filter((r) => r.rule_title === 'SSH brute force against a plant host');
          const cross = rows.find(
            (r) => r.rule_title === 'One address brute-forcing SSH across several sites',
          );
          return edge.length >= 2 && cross ? { edge, cross } : undefined;
        },
        { what: 'edge and cross-gateway alerts in the queue', timeoutMs: 20_000 },
      );
      assert.deepEqual(new Set(alerts.edge.map((r) => r.gateway)), new Set([c.gatewayId, 'gw-site-b']));
      assert.deepEqual(alerts.edge[0]?.techniques, ['T0812']);
      assert.ok((alerts.edge[0]?.event_ids.length ?? 0) >= 5);
      assert.deepEqual(alerts.cross.techniques.sort(), ['T0812', 'T0866']);
    } finally {
      socket.close();
      await a.stop();
      await b.stop();
    }
  });
});
