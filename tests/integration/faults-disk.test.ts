/**
 * Store-and-forward faults of the gateway's own storage, with real servers on real sockets and
 * central on a real PostgreSQL: a full disk (input refused with a counted error, the gateway keeps
 * running and recovers) and a corrupt queue database (repaired or moved aside, reported).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LevelQueue } from '../../gateway/queue/leveldb-queue.ts';
import { skipMissing, skipUnmet, waitFor } from '../support/env.ts';
import { pending } from '../support/link-client.ts';
import { centralOnPostgres } from '../support/central-on-postgres.ts';
import { startTestGateway } from '../support/stack.ts';

describe("store-and-forward faults: the gateway's disk", () => {
  const setup = centralOnPostgres();

  it(
    'a full disk: input is refused with a clear, counted error, the gateway keeps running and recovers',
    { timeout: 60_000 },
    async (t) => {
      const { db } = setup;
      if (!db) return skipUnmet(t);
      const { c } = setup;
      const mount = mkdtempSync(path.join(tmpdir(), 'siem-fulldisk-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount], { stdio: 'ignore' });
      } catch {
        rmSync(mount, { recursive: true, force: true });
        return skipMissing(t, {
          what: 'root',
          detail: 'mounting a small tmpfs needs root',
          provide: 'run the tests as root (as CI does)',
        });
      }
      const gatewayId = 'gw-full';
      const privateKey = await c.enroll(gatewayId);
      const dataDir = path.join(mount, 'gw');
      mkdirSync(dataDir);
      const gw = await startTestGateway(
        { linkUrl: 'ws://127.0.0.1:9/link', gatewayId, privateKey }, // nobody there: the queue must hold everything
        { syslog: false, dataDir, keepData: true, queue: { max_size_bytes: 0, report_interval_secs: 0.2 } },
      );
      const filler = path.join(mount, 'filler');
      try {
        writeFileSync(filler, Buffer.alloc(6 * 1024 * 1024));
        let refused: Error | undefined;
        // Random text: LevelDB compresses its tables, and 100 x's a message filled the 10 MB left
        // only after about 1,775 of these batches (a bound of 2,000 was not always enough in CI).
        for (let i = 0; i < 5000 && !refused; i += 1) {
          await gw
            .emit(
              Array.from({ length: 100 }, (_, j) =>
                pending(`full ${i}-${j} ${randomBytes(75).toString('base64')}`),
              ),
            )
            .catch((e) => {
              refused = e as Error;
            });
        }
        assert.ok(refused, 'the disk filled up');
        assert.match(refused.message, /disk full|queue write failed/);
        /** The gateway's own reports of failed writes that made it into the queue. */
        const healthReports = async () => {
          for (const lane of ['alert', 'security', 'telemetry'] as const) {
            const all = await gw.gateway.queue.read(lane, null, 10_000);
            const found = all
              .flatMap((r) => r.events)
              .filter((e) => e.action === 'gateway.queue_write_error');
            if (found.length > 0) return found;
          }
          return undefined;
        };
        const status = (await (await gw.api('/api/status')).json()) as {
          queue: { last_write_error: string | null };
        };
        // The status shows the last failed write until a write succeeds: the health reporter's own
        // (every 0.2 s here) may fit once LevelDB has reopened, and then it is that report that says it.
        t.diagnostic(`status after the refusal: last_write_error ${status.queue.last_write_error}`);
        if (status.queue.last_write_error === null)
          assert.ok(await healthReports(), 'cleared only by a later successful write: the health report');
        else assert.match(status.queue.last_write_error, /disk full|queue write failed/);
        const metrics = await (await fetch(`${gw.gateway.httpUrl()}/metrics`)).text();
        assert.match(
          metrics,
          /siem_gateway_events_dropped_total\{source="test",reason="queue_write_failed",gateway="gw-full"\} [1-9]/,
        );

        rmSync(filler);
        await waitFor(
          () =>
            gw
              .emit([pending('after the disk was freed')])
              .then(() => true)
              .catch(() => undefined),
          { timeoutMs: 15_000, what: 'writes to work again', intervalMs: 200 },
        );
        const records = await waitFor(healthReports, {
          timeoutMs: 10_000,
          what: 'a queued health event about the failed writes',
        });
        assert.ok(Number(records[0]!.fields.failures) > 0);
        assert.match(String(records[0]!.fields.error), /disk full|queue write failed/);
      } finally {
        await gw.stop();
        execFileSync('umount', [mount]);
        rmSync(mount, { recursive: true, force: true });
      }
    },
  );

  it('a corrupt queue database: repaired or moved aside, the gateway starts and reports it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-corrupt-'));
    const queueDir = path.join(dir, 'queue');
    const first = await LevelQueue.open({
      dir: queueDir,
      gateway: 'gw',
      maxRecordEvents: 10,
      flushIntervalMs: 0,
      sync: true,
    });
    await first.append(Array.from({ length: 50 }, (_, i) => pending(`corrupt ${i}`)));
    await first.close();
    for (const file of readdirSync(queueDir)) {
      if (/^(CURRENT|MANIFEST)/.test(file)) writeFileSync(path.join(queueDir, file), 'garbage\n');
    }
    const { queue, recovery } = await LevelQueue.openOrRecover({
      dir: queueDir,
      gateway: 'gw',
      maxRecordEvents: 10,
      flushIntervalMs: 0,
      sync: true,
    });
    try {
      assert.ok(recovery, 'the corruption was noticed');
      assert.match(recovery.action, /repaired|moved_aside/);
      const [event] = await queue.append([pending('after recovery')]);
      assert.ok(event && event.seq >= 1);
    } finally {
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
