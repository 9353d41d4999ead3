/**
 * Pure enrichment: IP scope by the RFC 6890 special-purpose ranges (private, shared, loopback,
 * link-local, multicast, documentation), OT networks from config, GeoIP for public addresses
 * only (geoip-lite's bundled data); threat-intel lists from CSV and STIX 2.1 bundles (revoked,
 * expired and AND-patterns skipped and counted) and matching of events against them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cidrList, ipInfo, ipScope } from '../../../central/enrich/ip.ts';
import { createIndicatorSet, parseIndicatorCsv, parseStixBundle } from '../../../central/enrich/intel.ts';
import { makeEvent } from '../store/fixtures.ts';

describe('IP scope and GeoIP', () => {
  it('labels special-purpose ranges and leaves public addresses public', () => {
    const cases: Array<[string, string]> = [
      ['10.1.2.3', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', 'public'],
      ['192.168.1.10', 'private'],
      ['100.64.0.1', 'shared'],
      ['127.0.0.1', 'loopback'],
      ['169.254.1.1', 'link_local'],
      ['224.0.0.251', 'multicast'],
      ['203.0.113.9', 'documentation'],
      ['::1', 'loopback'],
      ['fd12:3456::1', 'private'],
      ['fe80::1%eth0', 'link_local'],
      ['::ffff:192.168.0.1', 'private'],
      ['2001:db8::1', 'documentation'],
      ['8.8.8.8', 'public'],
    ];
    for (const [ip, scope] of cases) assert.equal(ipScope(ip), scope, ip);
    assert.equal(ipScope('not-an-ip'), undefined);
  });

  it('marks OT networks and looks up public addresses only', () => {
    const ot = cidrList(['10.20.0.0/16', 'fd00:1::/48']);
    assert.deepEqual(ipInfo('10.20.3.4', ot), { ip: '10.20.3.4', scope: 'private', ot: true });
    assert.deepEqual(ipInfo('10.21.3.4', ot), { ip: '10.21.3.4', scope: 'private', ot: false });
    assert.equal(ipInfo('fd00:1::5', ot)?.ot, true);
    const google = ipInfo('8.8.8.8', ot);
    assert.equal(google?.scope, 'public');
    assert.equal(google?.geo?.country, 'US');
    const london = ipInfo('81.2.69.142', ot);
    assert.equal(london?.geo?.country, 'GB');
    assert.equal(typeof london?.geo?.city, 'string');
    assert.equal(ipInfo('8.8.8.8', ot, { geo: false })?.geo, undefined);
    assert.throws(() => cidrList(['10.0.0.0/33']), /not a CIDR/);
  });
});

describe('threat-intel indicators', () => {
  it('reads CSV lists and counts what it cannot read', async () => {
    const { indicators, skipped } = await parseIndicatorCsv(
      [
        'type,value,description,level',
        'ip,198.51.100.7,"C2, known",critical',
        'cidr,203.0.113.0/24,scanner net,',
        'domain,Evil.Example,,',
        'sha256,' + 'A'.repeat(64) + ',dropper,',
        'ip,999.1.1.1,bad,',
        'url,http://x,unsupported,',
      ].join('\n'),
    );
    assert.deepEqual(
      indicators.map((i) => [i.type, i.value, i.description ?? null, i.level ?? null]),
      [
        ['ip', '198.51.100.7', 'C2, known', 'critical'],
        ['cidr', '203.0.113.0/24', 'scanner net', null],
        ['domain', 'evil.example', null, null],
        ['hash', 'a'.repeat(64), 'dropper', null],
      ],
    );
    assert.equal(skipped, 2);
  });

  it('reads STIX 2.1 indicator patterns, skipping revoked, expired and AND patterns', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    const indicator = (pattern: string, extra: Record<string, unknown> = {}) => ({
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${Math.random()}`,
      pattern_type: 'stix',
      name: 'APT infra',
      pattern,
      valid_from: '2026-01-01T00:00:00Z',
      ...extra,
    });
    const { indicators, skipped } = parseStixBundle(
      {
        type: 'bundle',
        id: 'bundle--1',
        objects: [
          indicator("[ipv4-addr:value = '198.51.100.1'] OR [ipv4-addr:value = '192.0.2.0/24']"),
          indicator("[domain-name:value = 'c2.example.net']"),
          indicator(`[file:hashes.'SHA-256' = '${'b'.repeat(64)}']`),
          indicator("[ipv6-addr:value = '2001:db8::66']"),
          indicator("[ipv4-addr:value = '198.51.100.2']", { revoked: true }),
          indicator("[ipv4-addr:value = '198.51.100.3']", { valid_until: '2026-02-01T00:00:00Z' }),
          indicator("[ipv4-addr:value = '198.51.100.4' AND network-traffic:dst_port = 502]"),
          indicator("[process:name = 'x']"),
          { type: 'malware', id: 'malware--1', name: 'x' },
        ],
      },
      now,
    );
    assert.deepEqual(
      indicators.map((i) => [i.type, i.value]),
      [
        ['ip', '198.51.100.1'],
        ['cidr', '192.0.2.0/24'],
        ['domain', 'c2.example.net'],
        ['hash', 'b'.repeat(64)],
        ['ip', '2001:db8::66'],
      ],
    );
    assert.equal(skipped, 4);
    assert.throws(() => parseStixBundle({ type: 'indicator' }), /not a STIX 2.1 bundle/);
  });

  it('matches events by IP, CIDR, domain (and subdomains) and hash', () => {
    const set = createIndicatorSet([
      { type: 'ip', value: '198.51.100.7' },
      { type: 'cidr', value: '203.0.113.0/24' },
      { type: 'domain', value: 'evil.example' },
      { type: 'hash', value: 'c'.repeat(40) },
    ]);
    const ev = (overrides: Record<string, unknown>) =>
      makeEvent('gw', 1, '2026-03-01T00:00:00.000Z', overrides);
    assert.deepEqual(
      set.match(ev({ src: { ip: '198.51.100.7' }, dst: { ip: '203.0.113.50' } })).map((h) => h.field),
      ['src.ip', 'dst.ip'],
    );
    assert.deepEqual(
      set
        .match(ev({ host: 'a.b.EVIL.example', fields: { query: 'x.evil.example.', sha1: 'C'.repeat(40) } }))
        .map((h) => h.field),
      ['host', 'fields.query', 'fields.sha1'],
    );
    assert.deepEqual(set.match(ev({ host: 'notevil.example', src: { ip: '198.51.100.8' } })), []);
  });
});
