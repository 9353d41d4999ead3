/**
 * Enrichment after storage, on both stores: a stored batch updates the device inventory (merged
 * across gateways, idempotent on re-sent events) and a threat-intel hit raises an alert on the
 * event's device; the API answers IP lookups and lists devices. A list that cannot be read fails
 * start with a message naming it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCentral } from '../../../central/index.ts';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { createEnrichment, type Enrichment } from '../../../central/enrich/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { IN_CI, skipUnmet } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { makeEvent } from '../store/fixtures.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'siem-intel-'));
const csvFile = path.join(dir, 'bad-ips.csv');
writeFileSync(csvFile, 'type,value,description,level\nip,198.51.100.7,known C2,critical\n');

function suite(name: string, open: () => Promise<EventStore | undefined>) {
  describe(`enrichment (${name})`, () => {
    let store: EventStore | undefined;
    let enrichment: Enrichment;
    let request: (p: string) => Promise<Response>;
    const token = newToken();
    before(async () => {
      store = await open();
      if (!store) return;
      await store.init(new Date());
      const metrics = createCentralMetrics({ processMetrics: false });
      const logger = createLogger('silent');
      const config = centralConfigSchema.parse({
        storage: { type: 'pglite' },
        enrichment: { ot_networks: ['10.20.0.0/16'], intel: [{ name: 'c2', file: csvFile, format: 'csv' }] },
      });
      const central = await buildCentral(config, store, {
        metrics,
        logger,
        apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
      });
      enrichment = central.enrichment;
      const app = central.app;
      request = (p) => Promise.resolve(app.request(p, { headers: { authorization: `Bearer ${token}` } }));
    });
    after(() => store?.close());

    it('merges devices from every gateway into the inventory, idempotently', async (t) => {
      if (!store) return skipUnmet(t);
      const batch1 = [
        makeEvent('gw-a', 1, '2026-03-01T10:00:00.000Z', {
          source: 'modbus',
          device: { id: 'modbus:10.20.0.5/1', protocol_id: '1' },
        }),
        makeEvent('gw-a', 2, '2026-03-01T10:05:00.000Z', {
          source: 'syslog',
          host: 'plc-5',
          device: { id: 'modbus:10.20.0.5/1' },
        }),
        makeEvent('gw-a', 3, '2026-03-01T10:06:00.000Z'),
      ];
      const batch2 = [
        makeEvent('gw-b', 1, '2026-03-01T09:00:00.000Z', {
          source: 'modbus',
          device: { id: 'modbus:10.20.0.5/1', name: 'Pump PLC' },
        }),
      ];
      enrichment.onStored(batch1);
      enrichment.onStored(batch2);
      enrichment.onStored(batch1); // re-sent
      await enrichment.idle();
      const res = await request('/api/devices?protocol=modbus');
      assert.equal(res.status, 200);
      const { devices } = (await res.json()) as { devices: unknown[] };
      assert.deepEqual(devices, [
        {
          device_id: 'modbus:10.20.0.5/1',
          first_seen: '2026-03-01T09:00:00.000Z',
          last_seen: '2026-03-01T10:05:00.000Z',
          gateways: ['gw-a', 'gw-b'],
          protocols: ['modbus', 'syslog'],
          protocol_id: '1',
          name: 'Pump PLC',
          host: 'plc-5',
        },
      ]);
    });

    it('raises an alert on the device when a stored event hits a threat-intel indicator', async (t) => {
      if (!store) return skipUnmet(t);
      const hit = makeEvent('gw-a', 10, '2026-03-01T11:00:00.000Z', {
        device: { id: 'modbus:10.20.0.9/1' },
        dst: { ip: '198.51.100.7', port: 443 },
      });
      enrichment.onStored([
        makeEvent('gw-a', 11, '2026-03-01T11:00:01.000Z', { dst: { ip: '198.51.100.8' } }),
        hit,
      ]);
      await enrichment.idle();
      const res = await request('/api/alerts?entity=modbus:10.20.0.9/1');
      const { alerts } = (await res.json()) as { alerts: Array<Record<string, unknown>> };
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.rule_id, 'intel:c2:198.51.100.7');
      assert.equal(alerts[0]!.severity, 2, 'the indicator says critical');
      assert.deepEqual(alerts[0]!.event_ids, [hit.id]);
      assert.match(String(alerts[0]!.rule_title), /dst\.ip — known C2/);
    });

    it('goes on with the next batch after one whose processing throws', async (t) => {
      if (!store) return skipUnmet(t);
      // A list whose matcher throws (a bug in one feed's set): that batch fails, counted, and the
      // batches after it are still recorded (before, the rejected chain skipped them all).
      const lists = enrichment.lists();
      enrichment.setLists([
        {
          ...lists[0]!,
          set: { match: () => assert.fail('a broken matcher') },
        } as unknown as (typeof lists)[0],
      ]);
      enrichment.onStored([
        makeEvent('gw-a', 20, '2026-03-01T12:00:00.000Z', { device: { id: 'plc-broken' } }),
      ]);
      await enrichment.idle().catch(() => undefined);
      enrichment.setLists(lists);
      enrichment.onStored([
        makeEvent('gw-a', 21, '2026-03-01T12:00:01.000Z', { device: { id: 'plc-after' } }),
      ]);
      await enrichment.idle();
      assert.equal(enrichment.backlog(), 0);
      const res = await request('/api/devices');
      const ids = ((await res.json()) as { devices: Array<{ device_id: string }> }).devices.map(
        (d) => d.device_id,
      );
      assert.ok(ids.includes('plc-after'), ids.join(', '));
    });

    it('answers IP lookups: scope, OT network, GeoIP, intel', async (t) => {
      if (!store) return skipUnmet(t);
      assert.deepEqual(await (await request('/api/enrich/ip/10.20.1.1')).json(), {
        ip: '10.20.1.1',
        scope: 'private',
        ot: true,
        intel: [],
      });
      const c2 = (await (await request('/api/enrich/ip/198.51.100.7')).json()) as {
        intel: Array<{ list: string }>;
      };
      assert.deepEqual(
        c2.intel.map((i) => i.list),
        ['c2'],
      );
      const pub = (await (await request('/api/enrich/ip/8.8.8.8')).json()) as { geo: { country: string } };
      assert.equal(pub.geo.country, 'US');
      assert.equal((await request('/api/enrich/ip/nope')).status, 400);
    });
  });
}

describe('intel list loading', () => {
  it('fails start naming the list that cannot be read', async () => {
    const config = centralConfigSchema.parse({
      storage: { type: 'pglite' },
      enrichment: { intel: [{ name: 'gone', file: path.join(dir, 'missing.json'), format: 'stix' }] },
    });
    await assert.rejects(
      createEnrichment({
        config: config.enrichment,
        sql: undefined as never,
        alerts: () => undefined as never,
        metrics: createCentralMetrics({ processMetrics: false }),
        logger: createLogger('silent'),
      }),
      /enrichment\.intel gone/,
    );
  });
});

suite('pglite', () => createPgliteStore());
const db = await createTempDatabase();
if ('error' in db && IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
suite('postgres', async () =>
  'error' in db ? undefined : createPostgresStore({ connectionString: db.url, poolMax: 4 }),
);
after(async () => {
  if (!('error' in db)) await db.drop();
});
