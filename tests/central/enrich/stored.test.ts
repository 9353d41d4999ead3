/**
 * Enrichment stored with the event at ingest (issue 21 ask 1), on PGlite: an event inserted
 * through the store gets `fields.geo` (GeoIP of its public address), `fields.asset` (configured
 * role and site), `fields.intel` (feed and indicator) and their tags, and search finds it as
 * `q=geo.country:US` and `q=intel.feed:c2`. Reverse DNS answers from a DNS server written here
 * (real UDP socket): the first event from an address is stored without a name (never waits), the
 * next one with it; a server that never answers does not hold up the insert. Tags and fields a
 * sender forges under the enrichment names are dropped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { buildCentral } from '../../../central/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createRdns } from '../../../central/enrich/rdns.ts';
import { createPgliteStore, type EventStore } from '../../../central/store/index.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import { makeEvent } from '../store/fixtures.ts';
import { startPtrServer } from './ptr-server.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'siem-enrich-stored-'));
const csvFile = path.join(dir, 'c2.csv');
writeFileSync(csvFile, 'type,value,description,level\nip,8.8.4.4,listed resolver,high\n');

describe('enrichment stored at ingest (PGlite)', () => {
  let store: EventStore;
  let dns: Awaited<ReturnType<typeof startPtrServer>>;
  let central: Awaited<ReturnType<typeof buildCentral>>;
  const token = newToken();
  const get = async (p: string) => {
    const res = await central.app.request(p, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, p);
    return (await res.json()) as { events: Event[] };
  };

  before(async () => {
    dns = await startPtrServer(new Map([['4.4.8.8.in-addr.arpa', 'dns.example.net']]));
    store = await createPgliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'siem-enrich-db-')) });
    await store.init(new Date());
    const config = centralConfigSchema.parse({
      storage: { type: 'pglite' },
      enrichment: {
        intel: [{ name: 'c2', file: csvFile, format: 'csv' }],
        reverse_dns: { servers: [dns.address], timeout_ms: 2000 },
        assets: [{ device_id: 'modbus:10.20.0.5/1', name: 'Tank PLC', role: 'plc', site: 'north' }],
      },
    });
    central = await buildCentral(config, store, {
      metrics: createCentralMetrics({ processMetrics: false }),
      logger: createLogger('silent'),
      apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
    });
  });
  after(async () => {
    await central.stop();
    await store.close();
    dns.socket.close();
  });

  it('stores GeoIP, asset, intel and reverse DNS under fields, searchable by tag', async () => {
    const ts = new Date().toISOString();
    const first = makeEvent('gw-a', 1, ts, {
      src: { ip: '8.8.4.4', port: 5353 },
      dst: { ip: '10.20.0.5', port: 502 },
      device: { id: 'modbus:10.20.0.5/1' },
      tags: ['geo.country:ZZ', 'keep-me'],
      fields: { intel: [{ feed: 'forged' }], geo: { country: 'ZZ' }, unit: 1 },
    });
    // As the link does: insert (enriched on the way in), then the after-commit steps.
    await store.insertEvents([first]);
    central.ingest.afterCommit([first]);
    await central.enrichment.rdns!.settled();
    const second = makeEvent('gw-a', 2, ts, { src: { ip: '8.8.4.4' } });
    await store.insertEvents([second]);
    central.ingest.afterCommit([second]);
    await central.enrichment.idle();

    const byCountry = await get('/api/events?q=geo.country:US');
    assert.deepEqual(byCountry.events.map((e) => e.seq).sort(), [1, 2]);
    const e1 = byCountry.events.find((e) => e.seq === 1)!;
    const f = e1.fields as Record<string, unknown>;
    assert.equal((f.geo as { country: string; ip: string }).country, 'US');
    assert.equal((f.geo as { ip: string }).ip, '8.8.4.4');
    assert.deepEqual(f.asset, { name: 'Tank PLC', role: 'plc', site: 'north' });
    assert.deepEqual(f.intel, [{ feed: 'c2', type: 'ip', indicator: '8.8.4.4', field: 'src.ip' }]);
    assert.equal(f.unit, 1);
    assert.equal(f.rdns, undefined, 'the first event does not wait for the lookup');
    assert.ok(e1.tags.includes('keep-me'));
    assert.ok(!e1.tags.includes('geo.country:ZZ'), 'a forged enrichment tag is dropped');
    assert.ok(e1.tags.includes('asset.site:north') && e1.tags.includes('asset.role:plc'));
    const e2 = byCountry.events.find((e) => e.seq === 2)!;
    assert.deepEqual(e2.fields.rdns, { src: 'dns.example.net' });

    const byFeed = await get('/api/events?q=intel.feed:c2');
    assert.equal(byFeed.events.length, 2);
    assert.equal((await get('/api/events?q=intel.feed:forged')).events.length, 0);
    assert.equal((await get('/api/events?q=asset.site:north')).events.length, 1);
    assert.ok(dns.queries.includes('4.4.8.8.in-addr.arpa'));
  });

  it('carries the enrichment onto the intel alert', async () => {
    const res = await central.app.request('/api/alerts?limit=50', {
      headers: { authorization: `Bearer ${token}` },
    });
    const { alerts } = (await res.json()) as { alerts: Array<{ rule_id: string; tags: string[] }> };
    const intel = alerts.find((a) => a.rule_id === 'intel:c2:8.8.4.4');
    assert.ok(intel, JSON.stringify(alerts.map((a) => a.rule_id)));
    assert.ok(intel.tags.includes('geo.country:US'), intel.tags.join(','));
    assert.ok(intel.tags.includes('intel.feed:c2'));
  });
});

describe('reverse DNS cache', () => {
  it('never waits for a server that does not answer, and stays bounded', async () => {
    const dns = await startPtrServer(new Map(), { silent: true });
    const rdns = createRdns({ servers: [dns.address], timeoutMs: 200, maxEntries: 3, concurrency: 2 });
    try {
      // peek is synchronous: it answers "not known yet" and the lookups run behind it.
      for (let i = 1; i <= 6; i += 1) assert.equal(rdns.peek(`192.0.2.${i}`), undefined);
      await rdns.settled();
      assert.equal(rdns.size, 3, 'the LRU keeps at most maxEntries');
      assert.equal(rdns.stats.failures, 6);
      assert.equal(rdns.peek('192.0.2.6'), null, 'a timed-out address is cached as no name');
    } finally {
      rdns.cancel();
      dns.socket.close();
    }
  });
});
