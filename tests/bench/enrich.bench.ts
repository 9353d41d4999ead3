/**
 * Enrichment at ingest (issue 21 ask 1): events per CPU second stored into PGlite with central's
 * whole enrichment path beside the same store without it, measured in the same run and in
 * alternating rounds so load hits both alike; and the annotation alone per event. The enriched
 * side is what central runs (enrich/index.ts): before insert, GeoIP of public addresses, the ASN
 * table (20,000 ranges), reverse DNS from its cache (lookups go to a local server that never
 * answers, off the path), assets from configuration, the inventory and the gateway's site, and
 * 1,000 threat-intel indicators, with the event remembered for alert enrichment; after commit, the
 * inventory upsert and the intel hits (about one event a batch), each raising an alert that
 * stores its own enrichment (enrich/alert.ts) through the real alert service.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAlerts } from '../../central/alerts/index.ts';
import { annotateEvent, createAssets } from '../../central/enrich/annotate.ts';
import { enrichmentConfigSchema } from '../../central/enrich/config.ts';
import { createEnrichment } from '../../central/enrich/index.ts';
import { cidrList } from '../../central/enrich/ip.ts';
import { createIndicatorSet, type Indicator } from '../../central/enrich/intel.ts';
import { enrichOnInsert } from '../../central/ingest.ts';
import { createLogger } from '../../central/log.ts';
import { createCentralMetrics } from '../../central/metrics.ts';
import { createPgliteStore } from '../../central/store/index.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { makeEvent } from '../central/store/fixtures.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'enrich';

const PUBLIC = ['8.8.8.8', '81.2.69.142', '1.1.1.1', '203.0.113.9', '185.60.216.35', '5.255.255.5'];
const LISTED = '45.155.205.233';

function batch(gateway: string, from: number, n: number, ts: string): Event[] {
  return Array.from({ length: n }, (_, i) =>
    makeEvent(gateway, from + i, ts, {
      src: {
        // One listed address a batch (an intel hit), else public every third event, else OT.
        ip:
          (from + i) % 500 === 0
            ? LISTED
            : i % 3 === 0
              ? PUBLIC[i % PUBLIC.length]!
              : `10.20.${i % 200}.${i % 250}`,
        port: 40000 + (i % 1000),
      },
      dst: { ip: `10.20.0.${i % 50}`, port: 502 },
      device: { id: `modbus:10.20.0.${i % 50}/1` },
      message: `login failure for user op${i % 40} from port ${i}`,
    }),
  );
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const total = options.quick ? 4_000 : 40_000;
  const size = 500;
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-enrich-'));
  const indicators: Indicator[] = Array.from({ length: 1000 }, (_, i) => ({
    type: 'ip',
    value: `198.51.${Math.floor(i / 250)}.${i % 250}`,
  }));
  indicators.push({ type: 'ip', value: LISTED });
  const intelFile = path.join(dir, 'bench.csv');
  writeFileSync(intelFile, `type,value\n${indicators.map((x) => `ip,${x.value}`).join('\n')}\n`);
  // 20,000 synthetic /24s over the v4 space (a real ip2asn-v4.tsv has about 500,000 ranges).
  const asnFile = path.join(dir, 'ip2asn-v4.tsv');
  const ip = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  const step = Math.floor(0xffffffff / 20_000);
  writeFileSync(
    asnFile,
    Array.from(
      { length: 20_000 },
      (_, i) => `${ip(i * step)}\t${ip(i * step + 255)}\t${64_512 + (i % 1000)}\tZZ\tAS ${i}`,
    )
      .join('\n')
      .concat('\n8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE\n'),
  );
  const dns = createSocket('udp4');
  await new Promise<void>((resolve) => dns.bind(0, '127.0.0.1', resolve));
  const assets = Array.from({ length: 50 }, (_, i) => ({
    device_id: `modbus:10.20.0.${i}/1`,
    role: 'plc',
    site: 'north',
  }));
  const config = enrichmentConfigSchema.parse({
    ot_networks: ['10.20.0.0/16'],
    asn: { file: asnFile },
    gateway_sites: { gw: 'north' },
    assets,
    intel: [{ name: 'bench', file: intelFile, format: 'csv' }],
    reverse_dns: { servers: [`127.0.0.1:${dns.address().port}`] },
    retro_hunt_hours: 0,
  });
  // The annotation alone, as in earlier runs of this bench.
  const feeds = [{ name: 'bench', set: createIndicatorSet(indicators) }];
  const deps = {
    ot: cidrList(['10.20.0.0/16']),
    geo: true,
    assets: createAssets(assets),
    feeds: () => feeds,
  };
  // Warm GeoIP (its data loads on first use) outside the measurement.
  annotateEvent(batch('warm', 1, 1, new Date().toISOString())[0]!, deps);

  const plain = await createPgliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'bench-enrich-a-')) });
  const enriched = await createPgliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'bench-enrich-b-')) });
  const ts = new Date().toISOString();
  await plain.init(new Date());
  await enriched.init(new Date());
  const metrics = createCentralMetrics({ processMetrics: false });
  const alerts = createAlerts({ sql: enriched.sql, metrics, groupWindowSecs: 300 });
  const enrichment = await createEnrichment({
    config,
    sql: enriched.sql,
    alerts: () => alerts,
    metrics,
    logger: createLogger('silent'),
  });
  alerts.setEnricher((input) => enrichment.enrichAlert(input));
  enrichOnInsert(enriched, (events) => enrichment.annotate(events));
  let cpuPlain = 0;
  let cpuEnriched = 0;
  /** Of which after commit: the inventory upsert and the intel hits with their alerts. */
  let cpuAfter = 0;
  for (let seq = 1; seq <= total; seq += size) {
    const a = batch('gw', seq, size, ts);
    const b = batch('gw', seq, size, ts);
    let t = cpu();
    await plain.insertEvents(a);
    cpuPlain += cpu() - t;
    t = cpu();
    await enriched.insertEvents(b);
    const t1 = cpu();
    enrichment.onStored(b);
    await enrichment.idle();
    cpuAfter += cpu() - t1;
    cpuEnriched += cpu() - t;
  }
  const { rows } = await enriched.sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM alerts WHERE enrichment IS NOT NULL',
  );
  const raised = Number(rows[0]?.n ?? 0);
  enrichment.stop();
  dns.close();
  await plain.close();
  await enriched.close();

  const alone = batch('gw', 1, 20_000, ts);
  const t0 = cpu();
  for (const e of alone) annotateEvent(e, deps);
  const annotateCpu = cpu() - t0;

  const ratePlain = total / cpuPlain;
  const rateEnriched = total / cpuEnriched;
  return [
    {
      name: 'central ingest into PGlite with the whole enrichment path (GeoIP, ASN, rDNS cache, assets, inventory, 1,000 intel indicators, enriched intel alerts)',
      value: Math.round(rateEnriched),
      unit: 'events/CPU s',
      peer: { name: 'the same without enrichment', value: Math.round(ratePlain) },
      note: `enriched/plain = ${(rateEnriched / ratePlain).toFixed(2)}; ${total} events in batches of ${size}; ${raised} enriched intel alert(s); after-commit work ${((cpuAfter / cpuEnriched) * 100).toFixed(0)}% of the enriched side's CPU`,
    },
    {
      name: 'central ingest with enrichment, as a share of the same without',
      value: Number((rateEnriched / ratePlain).toFixed(2)),
      unit: '×',
      // Issue 21 asks for the two rates side by side and sets no number: enrichment may cost
      // at most half of ingest, our own bound.
      target: { value: 0.5, better: 'higher', issue: 21 },
      note: 'our own bound: issue 21 asks for the rates side by side, without a figure',
    },
    {
      name: 'enrichment alone (annotateEvent), one core',
      value: Math.round(alone.length / annotateCpu),
      unit: 'events/CPU s',
      note: `${((annotateCpu / alone.length) * 1e6).toFixed(1)} µs of CPU an event`,
    },
  ];
}
