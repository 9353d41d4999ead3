/**
 * Enrichment on alerts (issue 21 ask 1), on a real central (PGlite): an edge alert arriving over
 * the link, a central Sigma rule and a threat-intel hit each store the enrichment of what they
 * name (GeoIP, ASN from an operator's table, reverse DNS, asset name/role/site, intel matches
 * with feed and indicator); asset name and role come from the central inventory, the site from
 * the gateway, and configuration wins; the terms filter the alert queue and the event search.
 * The DNS server never answers: nothing waits for it.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { buildCentral } from '../../../central/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPgliteStore, type EventStore } from '../../../central/store/index.ts';
import type * as Api from '../../../protocols/api/central.ts';
import { encodeAlertEvent } from '../../../protocols/event/alert.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import { makeEvent } from '../store/fixtures.ts';
import { startPtrServer } from './ptr-server.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'siem-alert-enrich-'));
const asnFile = path.join(dir, 'ip2asn-v4.tsv');
writeFileSync(asnFile, '8.8.4.0\t8.8.4.255\t15169\tUS\tGOOGLE\n77.88.0.0\t77.88.63.255\t13238\tRU\tYANDEX\n');
const intelFile = path.join(dir, 'scan.csv');
writeFileSync(intelFile, 'type,value,description,level\nip,77.88.1.2,known scanner,medium\n');
const CENTRAL_RULES = fileURLToPath(new URL('../../../rules/central/', import.meta.url));
const PLC = 'enip:10.20.0.9';

describe('enrichment stored with alerts (PGlite)', () => {
  let store: EventStore;
  let central: Awaited<ReturnType<typeof buildCentral>>;
  const dns = createSocket('udp4');
  let queries = 0;
  const token = newToken();
  const get = async <T>(p: string, status = 200): Promise<T> => {
    const res = await central.app.request(p, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, status, `${p}: ${res.status}`);
    return (await res.json()) as T;
  };
  /** The alert of `ruleId`, waiting for the alert service to raise it. */
  const alertOf = async (ruleId: string): Promise<Api.Alert> => {
    for (;;) {
      const next = once(central.alerts.changes, 'alert');
      const page = await get<Api.AlertsPage>(`/api/alerts?rule_id=${encodeURIComponent(ruleId)}`);
      if (page.alerts[0]) return page.alerts[0];
      await next;
    }
  };
  let seq = 0;
  const ingest = async (events: Event[]) => {
    await store.insertEvents(events);
    central.ingest.afterCommit(events);
    await central.enrichment.idle();
  };
  const ts = () => new Date().toISOString();

  before(async () => {
    // A DNS server that never answers.
    dns.on('message', () => {
      queries += 1;
    });
    await new Promise<void>((resolve) => dns.bind(0, '127.0.0.1', resolve));
    store = await createPgliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'siem-alert-enrich-db-')) });
    await store.init(new Date());
    const config = centralConfigSchema.parse({
      storage: { type: 'pglite' },
      detection: { rules_dirs: [CENTRAL_RULES] },
      enrichment: {
        asn: { file: asnFile },
        gateway_sites: { 'gw-a': 'north' },
        assets: [{ device_id: PLC, site: 'south' }],
        intel: [{ name: 'scan', file: intelFile, format: 'csv' }],
        reverse_dns: { servers: [`127.0.0.1:${dns.address().port}`], timeout_ms: 30_000 },
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
    dns.close();
  });

  it('stores events without waiting for a DNS server that never answers', async () => {
    const rdns = central.enrichment.rdns!;
    await ingest([makeEvent('gw-a', ++seq, ts(), { src: { ip: '8.8.4.4' }, dst: { ip: '10.20.0.1' } })]);
    // Stored, while the lookups it queued are still waiting for an answer that never comes.
    let settled = false;
    void rdns.settled().then(() => (settled = true));
    const page = await get<Api.EventsPage>('/api/events?q=geo.asn:AS15169');
    assert.equal(page.events.length, 1, 'stored and searchable by ASN');
    assert.equal((page.events[0]!.fields.geo as { as_name: string }).as_name, 'GOOGLE');
    assert.equal(settled, false, 'the reverse lookups are still waiting');
    assert.equal(rdns.peek('8.8.4.4'), undefined);
    assert.ok(queries >= 1 || rdns.stats.lookups >= 1);
  });

  it('names assets from the inventory (name, role) and the gateway (site); configuration wins', async () => {
    await ingest([
      makeEvent('gw-a', ++seq, ts(), {
        source: 'enip',
        action: 'enip.list_identity',
        device: { id: PLC, name: 'plc-9' },
        fields: { identity: { device_type_name: 'Programmable Logic Controller', vendor: 'Rockwell' } },
      }),
      makeEvent('gw-a', ++seq, ts(), { source: 'mqtt', device: { id: 'mqtt:sensor-1' } }),
    ]);
    await central.enrichment.refreshInventory();
    const later = makeEvent('gw-a', ++seq, ts(), { source: 'enip', device: { id: PLC } });
    const sensor = makeEvent('gw-a', ++seq, ts(), { source: 'mqtt', device: { id: 'mqtt:sensor-1' } });
    await ingest([later, sensor]);
    assert.deepEqual(later.fields.asset, {
      name: 'plc-9',
      role: 'Programmable Logic Controller',
      site: 'south',
    });
    assert.deepEqual(sensor.fields.asset, { site: 'north' });
    assert.equal((await get<Api.EventsPage>('/api/events?q=asset.site:north')).events.length >= 1, true);
  });

  it('stores the enrichment with an edge alert, an intel alert and a central rule alert', async () => {
    const evidence = makeEvent('gw-a', ++seq, ts(), {
      source: 'enip',
      kind: 'security',
      action: 'enip.write',
      device: { id: PLC },
      src: { ip: '77.88.1.2', port: 40_000 },
      dst: { ip: '10.20.0.9', port: 44_818 },
    });
    const now = Date.now();
    const edge = encodeAlertEvent(
      {
        id: 'a-1',
        kind: 'new',
        rule: { id: 'edge-rule-1', title: 'Unknown CIP writer', type: 'detection' },
        level: 'high',
        severity: 3,
        techniques: ['T0855'],
        tactics: [],
        entity: { key: PLC, device: PLC },
        event_ids: [evidence.id],
        count: 1,
        first_ms: now,
        last_ms: now,
      } as Parameters<typeof encodeAlertEvent>[0],
      new Date(),
    );
    const alertEvent = makeEvent('gw-a', ++seq, edge.ts, edge as never);
    // Refused MQTT logins from one address at two gateways: central's cross-gateway correlation.
    const auth = ['gw-b', 'gw-c'].map((gw) =>
      makeEvent(gw, 1, ts(), {
        source: 'mqtt',
        kind: 'security',
        action: 'mqtt.auth_failure',
        host: `broker-${gw}`,
        src: { ip: '8.8.4.4', port: 51_000 },
      }),
    );
    await ingest([evidence, alertEvent]);
    await ingest(auth);

    const fromEdge = await alertOf('edge-rule-1');
    const e = fromEdge.enrichment!;
    assert.ok(e, 'the edge alert is enriched');
    assert.deepEqual(e.asset, {
      device_id: PLC,
      name: 'plc-9',
      role: 'Programmable Logic Controller',
      site: 'south',
    });
    const attacker = e.addresses.find((a) => a.ip === '77.88.1.2')!;
    assert.equal(attacker.seen_as, 'src');
    assert.equal(attacker.scope, 'public');
    assert.equal(attacker.country, 'RU');
    assert.equal(attacker.asn, 'AS13238');
    assert.equal(attacker.as_name, 'YANDEX');
    const plc = e.addresses.find((a) => a.ip === '10.20.0.9')!;
    assert.equal(plc.scope, 'private');
    assert.equal(plc.country, undefined);
    assert.deepEqual(e.intel, [{ feed: 'scan', type: 'ip', indicator: '77.88.1.2', field: 'src.ip' }]);
    assert.equal(fromEdge.site, 'south');
    for (const t of ['geo.country:RU', 'geo.asn:AS13238', 'intel.feed:scan', 'asset.site:south'])
      assert.ok(fromEdge.tags.includes(t), `${t} in ${fromEdge.tags.join(',')}`);

    const intel = await alertOf('intel:scan:77.88.1.2');
    assert.deepEqual(intel.enrichment!.intel[0], {
      feed: 'scan',
      type: 'ip',
      indicator: '77.88.1.2',
      field: 'src.ip',
    });
    assert.equal(intel.enrichment!.addresses[0]!.asn, 'AS13238');

    const fromRule = await alertOf('7a1d0c55-3b2e-4c9a-8f10-2d6e9b4c0a06');
    const google = fromRule.enrichment!.addresses.find((a) => a.ip === '8.8.4.4')!;
    assert.equal(google.country, 'US');
    assert.equal(google.asn, 'AS15169');
    assert.equal(fromRule.enrichment!.intel.length, 0);
    assert.ok(fromRule.tags.includes('geo.asn:AS15169'));

    // The alert page reads the same through GET /api/alerts/:id.
    const detail = await get<Api.AlertDetail>(`/api/alerts/${fromEdge.id}`);
    assert.deepEqual(detail.enrichment, fromEdge.enrichment);
  });

  it('filters the alert queue and the event search by enrichment terms', async () => {
    const ids = async (q: string) =>
      (await get<Api.AlertsPage>(`/api/alerts?q=${encodeURIComponent(q)}`)).alerts
        .map((a) => a.rule_id)
        .sort();
    assert.deepEqual(await ids('geo.country:RU'), ['edge-rule-1', 'intel:scan:77.88.1.2']);
    assert.deepEqual(await ids('geo.country:ru'), ['edge-rule-1', 'intel:scan:77.88.1.2']);
    assert.deepEqual(await ids('geo.asn:15169'), ['7a1d0c55-3b2e-4c9a-8f10-2d6e9b4c0a06']);
    assert.deepEqual(await ids('intel.feed:scan asset.site:south'), ['edge-rule-1', 'intel:scan:77.88.1.2']);
    assert.deepEqual(await ids('geo.country:RU geo.asn:AS15169'), []);
    assert.deepEqual(
      (await get<Api.AlertsPage>('/api/alerts?tag=asset.site:south')).alerts.length >= 1,
      true,
    );
    await get('/api/alerts?q=DROP%20TABLE', 400);
    const events = await get<Api.EventsPage>('/api/events?q=geo.asn:AS13238');
    assert.ok(events.events.some((ev) => ev.src?.ip === '77.88.1.2'));
  });

  it('keeps a caller from forging enrichment tags on an alert it raises', async () => {
    const res = await central.app.request('/api/alerts', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        rule: { id: 'api-1', title: 'From the API', level: 'low', tags: ['geo.country:KP', 'mine'] },
        entity: { host: '8.8.4.4' },
      }),
    });
    assert.equal(res.status, 201);
    const { alert } = (await res.json()) as { alert: Api.Alert };
    assert.ok(alert.tags.includes('mine'));
    assert.ok(!alert.tags.includes('geo.country:KP'));
    assert.ok(alert.tags.includes('geo.country:US'));
    assert.equal(alert.enrichment!.addresses[0]!.seen_as, 'entity');
  });
});

describe('reverse DNS names added to an alert afterwards', () => {
  let store: EventStore;
  let central: Awaited<ReturnType<typeof buildCentral>>;
  let dns: Awaited<ReturnType<typeof startPtrServer>>;
  let release: () => void = () => {};
  const token = newToken();

  before(async () => {
    dns = await startPtrServer(new Map([['4.4.8.8.in-addr.arpa', 'dns.example.net']]), {
      gate: new Promise((resolve) => (release = resolve)),
    });
    store = await createPgliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'siem-alert-rdns-db-')) });
    await store.init(new Date());
    central = await buildCentral(
      centralConfigSchema.parse({
        storage: { type: 'pglite' },
        enrichment: { reverse_dns: { servers: [dns.address], timeout_ms: 5000 } },
      }),
      store,
      {
        metrics: createCentralMetrics({ processMetrics: false }),
        logger: createLogger('silent'),
        apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
      },
    );
  });
  after(async () => {
    await central.stop();
    await store.close();
    dns.socket.close();
  });

  it('raises at once without the name, then stores it when the lookup answers', async () => {
    const res = await central.app.request('/api/alerts', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        rule: { id: 'r-rdns', title: 'Beacon', level: 'low' },
        entity: { host: '8.8.4.4' },
      }),
    });
    assert.equal(res.status, 201);
    const { alert } = (await res.json()) as { alert: Api.Alert };
    assert.equal(alert.enrichment!.addresses[0]!.rdns, undefined, 'the raise did not wait for DNS');
    release();
    await central.enrichment.followUpsDone();
    const after = await central.app.request(`/api/alerts/${alert.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const detail = (await after.json()) as Api.AlertDetail;
    assert.equal(detail.enrichment!.addresses[0]!.rdns, 'dns.example.net');
    assert.ok(dns.queries.includes('4.4.8.8.in-addr.arpa'));
  });
});
