/**
 * Threat-intel feeds (issue 21 ask 2) over real sockets: an HTTP feed polled with ETag and
 * If-Modified-Since (304 keeps the set), a body over max_bytes refused with the old set kept and
 * the error in the status; a TAXII 2.1 collection written here polled with added_after and
 * followed through `next`, its indicators expiring at valid_until; a file reloaded when it
 * changes and on SIGHUP; a new indicator retro-hunted over stored events (PGlite) raising an
 * alert. fast-check for the plain-list parser.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { enrichmentConfigSchema } from '../../../central/enrich/config.ts';
import { createFeeds, type LoadedFeed } from '../../../central/enrich/feeds.ts';
import { parseIndicatorList } from '../../../central/enrich/intel.ts';
import { buildCentral } from '../../../central/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPgliteStore } from '../../../central/store/index.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import { makeEvent } from '../store/fixtures.ts';

const logger = createLogger('silent');
const dir = mkdtempSync(path.join(tmpdir(), 'siem-feeds-'));

async function serve(
  handler: (req: IncomingMessage) => { status: number; headers?: Record<string, string>; body?: string },
) {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    const r = handler(req);
    res.writeHead(r.status, r.headers ?? {});
    res.end(r.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => server.close() };
}

const probe = (ip: string) => ({ src: { ip }, fields: {} }) as unknown as Event;
const has = (feeds: LoadedFeed[], name: string, ip: string) =>
  feeds.find((f) => f.name === name)!.set.match(probe(ip)).length > 0;

describe('threat-intel feeds', () => {
  const closers: Array<() => void> = [];
  after(() => closers.forEach((c) => c()));

  it('polls an HTTP list with ETag / If-Modified-Since and caps the body', async () => {
    let body = '# bad\n198.51.100.1\n198.51.100.0/30 ; net\nevil.example\n';
    let version = 1;
    const http = await serve((req) => {
      if (req.headers['if-none-match'] === `"v${version}"`) return { status: 304 };
      return {
        status: 200,
        headers: { etag: `"v${version}"`, 'last-modified': 'Sat, 05 Dec 2026 10:00:00 GMT' },
        body,
      };
    });
    closers.push(http.close);
    let loaded: LoadedFeed[] = [];
    const config = enrichmentConfigSchema.parse({
      intel: [{ name: 'web', url: `${http.url}/list.txt`, format: 'list', max_bytes: 1024 }],
    });
    const feeds = createFeeds({ config, logger, onChange: (f) => (loaded = f) });
    await feeds.pollAll();
    assert.ok(has(loaded, 'web', '198.51.100.1') && has(loaded, 'web', '198.51.100.3'));
    assert.equal(feeds.status()[0]!.indicators, 3);
    await feeds.pollAll();
    assert.equal(http.requests[1]!.headers['if-none-match'], '"v1"');
    assert.equal(http.requests[1]!.headers['if-modified-since'], 'Sat, 05 Dec 2026 10:00:00 GMT');
    assert.equal(feeds.status()[0]!.not_modified, 1);
    body = `${'203.0.113.9\n'.repeat(200)}`; // 2,400 bytes: over max_bytes
    version = 2;
    await feeds.pollAll();
    assert.match(feeds.status()[0]!.last_error ?? '', /max_bytes/);
    assert.ok(has(loaded, 'web', '198.51.100.1'), 'the old set stays');
    assert.ok(!has(loaded, 'web', '203.0.113.9'));
    feeds.stop();
  });

  it('polls a TAXII 2.1 collection with added_after and next, expiring at valid_until', async () => {
    const ind = (id: string, ip: string, extra: Record<string, unknown> = {}) => ({
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${id}`,
      pattern_type: 'stix',
      pattern: `[ipv4-addr:value = '${ip}']`,
      valid_from: '2026-01-01T00:00:00Z',
      ...extra,
    });
    const taxii = await serve((req) => {
      const u = new URL(req.url!, 'http://x');
      assert.equal(u.pathname, '/api1/collections/c1/objects/');
      assert.match(req.headers.accept ?? '', /taxii\+json;version=2\.1/);
      const after = u.searchParams.get('added_after');
      const next = u.searchParams.get('next');
      const headers = { 'content-type': 'application/taxii+json;version=2.1' };
      if (after === null && next === null)
        return {
          status: 200,
          headers: { ...headers, 'x-taxii-date-added-last': '2026-12-01T00:00:01Z' },
          body: JSON.stringify({ more: true, next: 'p2', objects: [ind('a', '192.0.2.1')] }),
        };
      if (next === 'p2')
        return {
          status: 200,
          headers: { ...headers, 'x-taxii-date-added-last': '2026-12-01T00:00:02Z' },
          body: JSON.stringify({
            more: false,
            objects: [ind('b', '192.0.2.2', { valid_until: new Date(Date.now() + 60_000).toISOString() })],
          }),
        };
      assert.equal(after, '2026-12-01T00:00:02Z');
      return {
        status: 200,
        headers: { ...headers, 'x-taxii-date-added-last': '2026-12-01T00:00:03Z' },
        body: JSON.stringify({ more: false, objects: [ind('c', '192.0.2.3')] }),
      };
    });
    closers.push(taxii.close);
    let now = Date.now();
    let loaded: LoadedFeed[] = [];
    const added: string[] = [];
    const config = enrichmentConfigSchema.parse({
      intel: [{ name: 'tx', taxii_collection: `${taxii.url}/api1/collections/c1/` }],
    });
    const feeds = createFeeds({
      config,
      logger,
      onChange: (f) => (loaded = f),
      onNew: (_f, inds) => added.push(...inds.map((i) => i.value)),
      now: () => new Date(now),
    });
    await feeds.pollAll();
    assert.ok(has(loaded, 'tx', '192.0.2.1') && has(loaded, 'tx', '192.0.2.2'));
    assert.deepEqual(added, [], 'the first load is not retro-hunted');
    now += 120_000; // past b's valid_until
    await feeds.pollAll();
    assert.equal(taxii.requests.length, 3);
    assert.ok(has(loaded, 'tx', '192.0.2.1') && has(loaded, 'tx', '192.0.2.3'));
    assert.ok(!has(loaded, 'tx', '192.0.2.2'), 'expired at valid_until');
    assert.deepEqual(added, ['192.0.2.3']);
    assert.equal(feeds.status()[0]!.indicators, 2);
    feeds.stop();
  });

  it('reloads a file when it changes and on SIGHUP', async () => {
    const file = path.join(dir, 'list.csv');
    writeFileSync(file, 'type,value\nip,198.51.100.20\n');
    let loaded: LoadedFeed[] = [];
    const config = enrichmentConfigSchema.parse({
      intel: [{ name: 'f', file, format: 'csv', poll_secs: 5 }],
    });
    const feeds = createFeeds({ config, logger, onChange: (f) => (loaded = f) });
    await feeds.start();
    try {
      assert.ok(has(loaded, 'f', '198.51.100.20'));
      writeFileSync(file, 'type,value\nip,198.51.100.21\n');
      const until = Date.now() + 60_000;
      while (!has(loaded, 'f', '198.51.100.21') && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(has(loaded, 'f', '198.51.100.21'), 'reloaded on change');
      feeds.stop(); // no watcher nor poll now: only SIGHUP remains... re-arm it
      await feeds.start();
      writeFileSync(file, 'type,value\nip,198.51.100.22\n');
      process.kill(process.pid, 'SIGHUP');
      const until2 = Date.now() + 60_000;
      while (!has(loaded, 'f', '198.51.100.22') && Date.now() < until2)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(has(loaded, 'f', '198.51.100.22'));
    } finally {
      feeds.stop();
    }
  });

  it('parses plain lists: every listed address is matched, comments ignored (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.ipV4(), { maxLength: 50 }), fc.string({ maxLength: 40 }), (ips, comment) => {
        const c = comment.replace(/[\r\n]/g, '');
        const text = ips.map((ip) => `${ip} # ${c}`).join('\n');
        const { indicators, skipped } = parseIndicatorList(text);
        assert.equal(skipped, 0);
        assert.deepEqual(
          indicators.map((i) => i.value),
          ips.map((ip) => ip.split('.').map(Number).join('.')),
        );
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const { indicators } = parseIndicatorList(text);
        for (const i of indicators) assert.ok(['ip', 'cidr', 'domain', 'hash'].includes(i.type));
      }),
    );
  });
});

describe('retro-hunt (PGlite)', () => {
  it('matches a new indicator against stored events and raises an alert', async () => {
    let body = '198.51.100.77\n';
    let v = 1;
    const http = await serve(() => ({ status: 200, headers: { etag: `"${v}"` }, body }));
    const store = await createPgliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'siem-retro-')) });
    await store.init(new Date());
    const token = newToken();
    const central = await buildCentral(
      centralConfigSchema.parse({
        storage: { type: 'pglite' },
        enrichment: {
          reverse_dns: { enabled: false },
          intel: [{ name: 'late', url: `${http.url}/l`, format: 'list' }],
        },
      }),
      store,
      {
        metrics: createCentralMetrics({ processMetrics: false }),
        logger,
        apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
      },
    );
    try {
      const ts = new Date(Date.now() - 3_600_000).toISOString();
      const events = Array.from({ length: 1500 }, (_, i) =>
        makeEvent('gw-r', i + 1, ts, { src: { ip: i === 1234 ? '203.0.113.50' : '10.1.0.1' } }),
      );
      await store.insertEvents(events);
      body = '198.51.100.77\n203.0.113.50\n';
      v = 2;
      await central.enrichment.feeds.pollAll();
      await central.enrichment.idle();
      const res = await central.app.request('/api/alerts?limit=50', {
        headers: { authorization: `Bearer ${token}` },
      });
      const { alerts } = (await res.json()) as {
        alerts: Array<{ rule_id: string; tags: string[]; event_ids: string[] }>;
      };
      const hit = alerts.find((a) => a.rule_id === 'intel:late:203.0.113.50');
      assert.ok(hit, JSON.stringify(alerts.map((a) => a.rule_id)));
      assert.deepEqual(hit.event_ids, ['gw-r:1235']);
      assert.ok(hit.tags.includes('intel.retro_hunt'));
      const status = await central.app.request('/api/intel/feeds', {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(status.status, 200);
      const { feeds } = (await status.json()) as { feeds: Array<{ name: string; indicators: number }> };
      assert.equal(feeds[0]!.indicators, 2);
    } finally {
      await central.stop();
      await store.close();
      http.close();
    }
  });
});
