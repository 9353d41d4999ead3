/**
 * Store-and-forward faults on the link, with real servers on real sockets and central on a real
 * PostgreSQL: (a) central down for 30 s while 50,000 events arrive over TCP syslog; a graceful
 * stop with the link up and down; (c) a proxy that cuts the link at random mid-batch; (d) the disk
 * cap reached during an outage. Each ends by counting what central stored, straight from SQL.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LevelQueue } from '../../gateway/queue/leveldb-queue.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { skipUnmet, waitFor } from '../support/env.ts';
import { pending } from '../support/link-client.ts';
import { centralOnPostgres } from '../support/central-on-postgres.ts';
import { startTestGateway } from '../support/stack.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { sendTcpSyslog, stored } from './faults-support.ts';

describe('store-and-forward faults: central away, link cut', () => {
  const setup = centralOnPostgres();

  it(
    '(a) central stopped for 30 s while 50,000 events arrive: afterwards all are stored exactly once',
    { timeout: 120_000 },
    async (t) => {
      const { db } = setup;
      if (!db) return skipUnmet(t);
      let { c } = setup;
      const gw = await startTestGateway({
        linkUrl: c.central.linkUrl(),
        gatewayId: c.gatewayId,
        privateKey: c.privateKey,
      });
      try {
        await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined));
        await setup.stop();
        const stoppedAt = Date.now();
        await sendTcpSyslog(gw.port('tcp'), 'outage-a', 50_000);
        await waitFor(() => (gw.gateway.queue.depth.events >= 50_000 ? true : undefined), {
          timeoutMs: 60_000,
        });
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - stoppedAt))));
        c = await setup.restart();
        await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined), {
          timeoutMs: 60_000,
          what: 'drain',
        });
        const counts = await stored(db.url, c.gatewayId, 'outage-a %');
        assert.deepEqual(
          { total: counts.total, distinct: counts.distinct },
          { total: 50_000, distinct: 50_000 },
        );
      } finally {
        await gw.stop();
      }
    },
  );

  it(
    'graceful stop: with the link up it forwards what is queued first; with central away it stops at once, keeping it',
    { timeout: 120_000 },
    async (t) => {
      const { db } = setup;
      if (!db) return skipUnmet(t);
      const { c } = setup;
      const remaining = async (dir: string) => {
        const queue = await LevelQueue.open({
          dir: path.join(dir, 'queue'),
          gateway: c.gatewayId,
          maxRecordEvents: 1,
          flushIntervalMs: 0,
          sync: true,
        });
        const left = queue.depth.events;
        await queue.close();
        return left;
      };
      const link = { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey };
      const batch = (prefix: string) => Array.from({ length: 20_000 }, (_, i) => pending(`${prefix} ${i}`));

      // Link up: 20,000 events just queued are forwarded and acked before the stop completes.
      const up = await startTestGateway(link, { keepData: true });
      t.after(() => rmSync(up.dataDir, { recursive: true, force: true }));
      await waitFor(() => (up.gateway.forwarder.connected ? true : undefined));
      await up.emit(batch('stop-drain'));
      await up.gateway.stop({ drainMs: 60_000 });
      assert.equal(await remaining(up.dataDir), 0, 'nothing left queued');
      assert.equal((await stored(db.url, c.gatewayId, 'stop-drain %')).total, 20_000);

      // Central away: the stop does not wait for the link; everything stays on disk.
      await setup.stop();
      try {
        const down = await startTestGateway(link, { keepData: true });
        t.after(() => rmSync(down.dataDir, { recursive: true, force: true }));
        await down.emit(batch('stop-offline'));
        const started = Date.now();
        await down.gateway.stop({ drainMs: 60_000 });
        assert.ok(Date.now() - started < 30_000, 'did not wait out the drain time for a link that is down');
        assert.equal(await remaining(down.dataDir), 20_000, 'all kept for the next start');
      } finally {
        await setup.restart();
      }
    },
  );

  it(
    '(c) a proxy cutting the link mid-batch at random: no loss, no duplicates',
    { timeout: 120_000 },
    async (t) => {
      const { db } = setup;
      if (!db) return skipUnmet(t);
      const { c } = setup;
      const target = new URL(c.central.linkUrl());
      // Each connection lives for a random number of bytes towards central, then both ends die.
      const proxy = await startTcpProxy(
        { host: target.hostname, port: Number(target.port) },
        { cutAfterBytes: () => 20_000 + Math.floor(Math.random() * 400_000) },
      );
      const gatewayId = 'gw-cut';
      const privateKey = await c.enroll(gatewayId);
      const gw = await startTestGateway(
        { linkUrl: proxy.via(c.central.linkUrl()), gatewayId, privateKey },
        { syslog: false },
      );
      try {
        for (let i = 0; i < 20; i += 1) {
          await gw.gateway.queue.append(
            Array.from({ length: 1000 }, (_, j) => pending(`cut ${i * 1000 + j}`)),
          );
        }
        await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined), {
          timeoutMs: 90_000,
          what: 'drain',
        });
        const counts = await stored(db.url, gatewayId);
        assert.deepEqual(counts, { total: 20_000, distinct: 20_000, max: 20_000 });
        assert.ok(proxy.cuts >= 3, `the proxy cut the link ${proxy.cuts} times`);
      } finally {
        await gw.stop();
        await proxy.close();
      }
    },
  );

  it(
    '(d) disk cap reached during an outage: every alert kept, evictions counted and reported',
    { timeout: 60_000 },
    async (t) => {
      const { db } = setup;
      if (!db) return skipUnmet(t);
      let { c } = setup;
      const gatewayId = 'gw-cap';
      const privateKey = await c.enroll(gatewayId);
      const gw = await startTestGateway(
        { linkUrl: c.central.linkUrl(), gatewayId, privateKey },
        {
          syslog: false,
          queue: { max_size_bytes: 300_000, max_batch_events: 20, report_interval_secs: 0.2 },
        },
      );
      try {
        await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined));
        await setup.stop();
        const emit = (events: PendingEvent[]) => gw.emit(events);
        for (let round = 0; round < 10; round += 1) {
          await emit(Array.from({ length: 20 }, (_, i) => pending(`cap alert ${round}-${i}`, 'alert')));
          await emit(
            Array.from({ length: 100 }, (_, i) => pending(`cap security ${round}-${i}`, 'security')),
          );
          await emit(
            Array.from({ length: 300 }, (_, i) => pending(`cap telemetry ${round}-${i}`, 'telemetry')),
          );
        }
        const depth = gw.gateway.queue.depth;
        assert.ok(depth.bytes <= 300_000, `queue holds ${depth.bytes} bytes`);
        assert.ok(depth.evicted.telemetry > 0, 'telemetry was evicted');
        assert.equal(depth.byLane.alert >= 200, true, 'all 200 alerts are still queued');

        c = await setup.restart();
        await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined), {
          timeoutMs: 30_000,
          what: 'drain',
        });
        assert.equal(
          (await stored(db.url, gatewayId, 'cap alert %')).total,
          200,
          'every alert reached central',
        );
        const security = (await stored(db.url, gatewayId, 'cap security %')).total;
        const telemetry = (await stored(db.url, gatewayId, 'cap telemetry %')).total;
        const evicted = gw.gateway.queue.depth.evicted;
        assert.equal(security + evicted.security, 1000);
        assert.equal(telemetry + evicted.telemetry, 3000);

        // Central learned of every eviction through the gateway's own health events.
        const reports = await waitFor(
          async () => {
            const events = await c.events(`gateway=${gatewayId}&source=gateway`);
            const found = events.filter((e) => e.action === 'gateway.queue_eviction');
            const sum = (lane: 'security' | 'telemetry') =>
              found.reduce(
                (n, e) => n + ((e.fields.evicted as Record<string, { events: number }>)[lane]?.events ?? 0),
                0,
              );
            return sum('telemetry') === evicted.telemetry && sum('security') === evicted.security
              ? found
              : undefined;
          },
          { timeoutMs: 15_000, what: 'eviction reports matching the counters' },
        );
        assert.ok(reports.length >= 1);
        const metrics = await (await fetch(`${gw.gateway.httpUrl()}/metrics`)).text();
        assert.match(
          metrics,
          new RegExp(
            `siem_gateway_queue_evicted_events_total\\{lane="telemetry",gateway="${gatewayId}"\\} ${evicted.telemetry}`,
          ),
        );
      } finally {
        await gw.stop();
      }
    },
  );
});
