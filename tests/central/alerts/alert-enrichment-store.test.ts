/**
 * An alert's enrichment in storage (migration 017, central/alerts/raise.ts), on PGlite and on
 * PostgreSQL: stored with a new alert, merged when a repeat folds into it (a new address added,
 * a reverse-DNS name filled in, a match not repeated), its search tags replacing forged ones, and
 * the queue filtered by every tag asked for. Alerts raised before 017 read as `enrichment: null`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { raiseAlert } from '../../../central/alerts/raise.ts';
import { createAlertStore } from '../../../central/alerts/alert-store.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import type { AlertEnrichment } from '../../../protocols/api/central.ts';
import { IN_CI } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';

const FIRST: AlertEnrichment = {
  addresses: [{ ip: '77.88.1.2', seen_as: 'src', scope: 'public', country: 'RU', asn: 'AS13238' }],
  asset: { device_id: 'enip:plc-9', name: 'plc-9', role: 'Programmable Logic Controller', site: 'south' },
  intel: [{ feed: 'scan', type: 'ip', indicator: '77.88.1.2', field: 'src.ip' }],
};
const REPEAT: AlertEnrichment = {
  addresses: [
    {
      ip: '77.88.1.2',
      seen_as: 'src',
      scope: 'public',
      country: 'RU',
      asn: 'AS13238',
      rdns: 'scanner.example',
    },
    { ip: '10.20.0.9', seen_as: 'dst', scope: 'private' },
  ],
  intel: [{ feed: 'scan', type: 'ip', indicator: '77.88.1.2', field: 'src.ip' }],
};

function suite(name: string, open: () => Promise<EventStore | undefined>) {
  describe(`alert enrichment in storage (${name})`, () => {
    let store: EventStore | undefined;
    before(async () => {
      store = await open();
      await store?.init(new Date());
    });
    after(async () => store?.close());

    it('stores, merges and filters by the enrichment tags', async (t) => {
      if (!store) return t.skip('PostgreSQL is not available');
      const input = {
        rule: {
          id: 'r-enrich',
          title: 'Unknown CIP writer',
          level: 'high' as const,
          tags: ['geo.country:KP', 'own'],
        },
        entity: { device_id: 'enip:plc-9', gateway: 'gw-a' },
        event_ids: ['gw-a:1'],
      };
      const created = await raiseAlert(store.sql, input, { groupWindowMs: 300_000, enrichment: FIRST });
      assert.equal(created.outcome, 'created');
      assert.deepEqual(created.alert!.enrichment, FIRST);
      assert.equal(created.alert!.site, 'south', 'the site column comes from the asset');
      assert.deepEqual(created.alert!.tags.sort(), [
        'asset.role:Programmable Logic Controller',
        'asset.site:south',
        'geo.asn:AS13238',
        'geo.country:RU',
        'intel.feed:scan',
        'own',
      ]);

      const grouped = await raiseAlert(
        store.sql,
        { ...input, event_ids: ['gw-a:2'] },
        { groupWindowMs: 300_000, enrichment: REPEAT },
      );
      assert.equal(grouped.outcome, 'grouped');
      const merged = grouped.alert!.enrichment!;
      assert.equal(merged.addresses.length, 2);
      assert.equal(merged.addresses[0]!.rdns, 'scanner.example', 'a name learnt since is filled in');
      assert.equal(merged.addresses[1]!.ip, '10.20.0.9');
      assert.equal(merged.intel.length, 1, 'the same match once');
      assert.deepEqual(merged.asset, FIRST.asset);

      const bare = await raiseAlert(
        store.sql,
        { rule: { id: 'r-bare', title: 'No enrichment', level: 'low' }, entity: { host: 'h1' } },
        { groupWindowMs: 300_000 },
      );
      assert.equal(bare.alert!.enrichment, null);

      const alerts = createAlertStore(store.sql);
      const ids = async (tags: string[]) =>
        (await alerts.list({ tags, limit: 50 })).alerts.map((a) => a.rule_id);
      assert.deepEqual(await ids(['geo.country:RU']), ['r-enrich']);
      assert.deepEqual(await ids(['geo.country:RU', 'asset.site:south']), ['r-enrich']);
      assert.deepEqual(await ids(['geo.country:RU', 'asset.site:north']), []);
      assert.deepEqual(await ids(['geo.country:KP']), [], 'a forged tag is not stored');
      assert.deepEqual((await alerts.get(created.alert!.id))!.enrichment, merged);
    });
  });
}

suite('pglite', () => createPgliteStore());
const db = await createTempDatabase();
if ('error' in db && IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
suite('postgres', async () =>
  'error' in db ? undefined : createPostgresStore({ connectionString: db.url, poolMax: 4 }),
);
after(async () => {
  if (!('error' in db)) await db.drop();
});
