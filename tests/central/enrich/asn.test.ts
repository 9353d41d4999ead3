/**
 * The ASN table (central/enrich/asn.ts): iptoasn.com's TSV format read into sorted arrays, looked
 * up by binary search (checked against a linear scan with fast-check), bounded, and re-read when
 * the file changes. The fixture is written here, in a temp dir: our own table, not iptoasn's data.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { buildAsnTable, createAsnSource, ipv4ToUint, ipv6ToBigInt } from '../../../central/enrich/asn.ts';

const TSV = [
  '1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET',
  '1.0.1.0\t1.0.3.255\t0\tNone\tNot routed',
  '8.8.4.0\t8.8.4.255\t15169\tUS\tGOOGLE',
  '8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE',
  '77.88.0.0\t77.88.63.255\t13238\tRU\tYANDEX Yandex enterprise network',
  '2001:4860::\t2001:4860:ffff:ffff:ffff:ffff:ffff:ffff\t15169\tUS\tGOOGLE',
  '2a02:6b8::\t2a02:6b8:ffff:ffff:ffff:ffff:ffff:ffff\t13238\tRU\tYANDEX',
].join('\n');

describe('ASN table', () => {
  it('finds the AS of v4 and v6 addresses, edges included, and nothing outside or in AS 0', async () => {
    const t = await buildAsnTable(TSV.split('\n'), { maxRanges: 100 });
    assert.equal(t.ranges, 6);
    assert.equal(t.skipped, 1, 'AS 0 (not routed) is skipped');
    assert.deepEqual(t.lookup('8.8.8.8'), { asn: 'AS15169', as_name: 'GOOGLE', as_country: 'US' });
    assert.equal(t.lookup('8.8.4.0')?.asn, 'AS15169');
    assert.equal(t.lookup('8.8.4.255')?.asn, 'AS15169');
    assert.equal(t.lookup('8.8.5.0'), undefined, 'between two ranges');
    assert.equal(t.lookup('1.0.2.1'), undefined, 'not routed');
    assert.equal(t.lookup('0.0.0.1'), undefined, 'before the first range');
    assert.equal(t.lookup('255.255.255.255'), undefined, 'after the last v4 range');
    assert.equal(t.lookup('::ffff:77.88.1.2')?.asn, 'AS13238', 'an IPv4-mapped address is IPv4');
    assert.equal(t.lookup('77.88.1.2')?.as_name, 'YANDEX Yandex enterprise network');
    assert.equal(t.lookup('2001:4860:4860::8888')?.asn, 'AS15169');
    assert.equal(t.lookup('2a02:6b8::1')?.as_country, 'RU');
    assert.equal(t.lookup('2a02:6b9::1'), undefined);
    assert.equal(t.lookup('not an address'), undefined);
  });

  it('keeps at most max_ranges and skips malformed lines, counting them', async () => {
    const lines = [
      ...TSV.split('\n'),
      'garbage',
      '1.2.3.4\t1.2.3.0\t5\tXX\tbackwards',
      `9.9.9.0\t9.9.9.255\t19281\tUS\t${'x'.repeat(2000)}`,
    ];
    const t = await buildAsnTable(lines, { maxRanges: 3 });
    assert.equal(t.ranges, 3);
    assert.equal(t.skipped, lines.length - 3, 'AS 0, everything past the cap and the bad lines');
  });

  it('parses IPv6 text forms like the address they name (property)', () => {
    const word = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const full = words.map((w) => w.toString(16)).join(':');
        const expected = words.reduce((n, w) => (n << 16n) | BigInt(w), 0n);
        assert.equal(ipv6ToBigInt(full), expected);
        // The compressed form of the same address (`::` for the longest run of zeros).
        const url = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        assert.equal(ipv6ToBigInt(url), expected, url);
      }),
    );
    assert.equal(ipv6ToBigInt('::ffff:1.2.3.4'), 0xffff01020304n);
    assert.equal(ipv6ToBigInt('1:2:3:4:5:6:7:8:9'), undefined);
    assert.equal(ipv6ToBigInt('1::2::3'), undefined);
    assert.equal(ipv4ToUint('256.1.1.1'), undefined);
  });

  it('never throws on arbitrary lines, and counts each as a range or a skip (property)', async () => {
    const field = fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.nat().map(String));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(field, { maxLength: 6 }).map((f) => f.join('\t'))),
        async (lines) => {
          const t = await buildAsnTable(lines, { maxRanges: 1000 });
          const counted = lines.filter((l) => l !== '' && !l.startsWith('#')).length;
          assert.equal(t.ranges + t.skipped, counted);
          for (const l of lines) t.lookup(l.split('\t')[0] ?? '');
        },
      ),
    );
  });

  it('agrees with a linear scan over random disjoint ranges (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 0xffffff00 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 20 }),
        async (starts, probes) => {
          const sorted = [...starts].sort((a, b) => a - b);
          const ranges = sorted.map((s, i) => {
            const next = sorted[i + 1] ?? 0xffffffff + 1;
            return [s, Math.min(s + 200, next - 1), 64_500 + i] as const;
          });
          const ip = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
          // Written in shuffled order: the table sorts what it reads.
          const lines = ranges.map(([a, b, as]) => `${ip(a)}\t${ip(b)}\t${as}\tZZ\tAS ${as}`).reverse();
          const t = await buildAsnTable(lines, { maxRanges: 1000 });
          for (const p of [...probes, ...sorted]) {
            const hit = ranges.find(([a, b]) => a <= p && p <= b);
            assert.equal(t.lookup(ip(p))?.asn, hit ? `AS${hit[2]}` : undefined, ip(p));
          }
        },
      ),
    );
  });

  it('is re-read when the file changes; a bad reload keeps the old table', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-asn-'));
    const file = path.join(dir, 'ip2asn-combined.tsv');
    writeFileSync(file, TSV);
    const source = createAsnSource({
      file,
      maxRanges: 1000,
      maxBytes: 1 << 20,
      pollSecs: 3600,
      logger: pino({ level: 'silent' }),
    });
    await source.start();
    try {
      assert.equal(source.lookup('8.8.8.8')?.asn, 'AS15169');
      assert.equal(source.lookup('203.0.113.9'), undefined);
      writeFileSync(file, `${TSV}\n203.0.113.0\t203.0.113.255\t64501\tZZ\tTEST-NET-3 OPERATOR\n`);
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      await source.poll();
      assert.deepEqual(source.lookup('203.0.113.9'), {
        asn: 'AS64501',
        as_name: 'TEST-NET-3 OPERATOR',
        as_country: 'ZZ',
      });
      assert.equal(source.status().ranges, 7);
      writeFileSync(file, 'x'.repeat(2 << 20));
      utimesSync(file, new Date(), new Date(Date.now() + 10_000));
      await source.poll();
      assert.match(source.status().last_error ?? '', /over max_bytes/);
      assert.equal(source.lookup('203.0.113.9')?.asn, 'AS64501', 'the previous table stays');
    } finally {
      source.stop();
    }
  });

  it('fails start when the file cannot be read, naming it', async () => {
    const source = createAsnSource({
      file: path.join(tmpdir(), 'no-such-dir-siem', 'ip2asn.tsv'),
      maxRanges: 10,
      maxBytes: 1024,
      pollSecs: 60,
      logger: pino({ level: 'silent' }),
    });
    await assert.rejects(source.start(), /enrichment\.asn .*ip2asn\.tsv/);
  });
});
