/**
 * Fault test (b): the real `siem-gateway run` process is killed with SIGKILL five times while a
 * 100,000-event TCP syslog stream pours in. TCP syslog has no acknowledgement, so what the
 * sender wrote into a dying process may be lost before the queue accepted it; what the queue
 * did accept got a sequence number. The test checks that central stored every accepted
 * sequence number exactly once: 1..N, no gap, no duplicate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import pg from 'pg';
import { LevelQueue } from '../../gateway/queue/leveldb-queue.ts';
import { type GatewayServer, startGatewayProcess } from '../soak/processes.ts';
import { freePort, skipUnmet, waitFor } from '../support/env.ts';
import { queuedEvents } from '../support/gateway-metrics.ts';
import { centralOnPostgres } from '../support/central-on-postgres.ts';

const setup = centralOnPostgres();

it(
  '(b) SIGKILL five times during a 100,000-event TCP stream: every accepted event arrives exactly once',
  { timeout: 180_000 },
  async (t) => {
    const { db } = setup;
    if (!db) return skipUnmet(t);
    const { c } = setup;
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-crash-'));
    const gatewayId = 'gw-crash';
    await c.enroll(gatewayId, path.join(dir, 'credentials.json'));
    const syslogPort = await freePort();
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `gateway: { id: ${gatewayId}, data_dir: ${dir} }`,
        `sources: { tcp: { type: syslog, mode: tcp, listen: "127.0.0.1:${syslogPort}" } }`,
        `central: { endpoint: "${c.central.linkUrl()}", initial_backoff_secs: 0.05, max_backoff_secs: 0.5 }`,
        'http: { listen: "127.0.0.1:0" }',
        'log: { level: error }',
      ].join('\n'),
    );

    let gw: GatewayServer | undefined;
    const startGateway = async () => {
      gw = await startGatewayProcess(config, false);
      httpUrl = gw.httpUrl;
    };
    let httpUrl = '';

    // The sender: one line per event, reconnecting whenever the gateway is gone.
    const TOTAL = 100_000;
    let next = 0;
    let sending = true;
    const sender = (async () => {
      while (sending && next < TOTAL) {
        const socket = net.connect(syslogPort, '127.0.0.1');
        const open = await new Promise<boolean>((resolve) => {
          socket.once('connect', () => resolve(true));
          socket.once('error', () => resolve(false));
        });
        if (!open) {
          socket.destroy();
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        let broken = false;
        socket.on('error', () => {
          broken = true;
        });
        socket.on('close', () => {
          broken = true;
        });
        while (!broken && next < TOTAL) {
          const line = `<13>1 ${new Date().toISOString()} plc-9 app - - - crash ${next}\n`;
          next += 1;
          if (!socket.write(line))
            await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
          // About 10,000 events/s, so that the five kills land in the middle of the stream.
          if (next % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        socket.end();
      }
    })();

    try {
      await startGateway();
      for (let kill = 0; kill < 5; kill += 1) {
        const target = ((kill + 1) * TOTAL) / 7;
        await waitFor(() => (next >= target ? true : undefined), {
          timeoutMs: 60_000,
          what: `${target} events sent`,
        });
        await gw!.kill();
        await startGateway();
      }
      await sender;
      sending = false;
      // Let the last run drain, then stop it cleanly. The last run is never killed, so the last line
      // sent is accepted, but perhaps only after the queue looked empty for a moment (lines still in
      // the socket buffers under load): wait for that line in central first, then for the queue
      // to be empty (the acks processed), then for a gap-free sequence.
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await waitFor(
          async () => {
            const { rows } = await client.query(
              'SELECT 1 FROM events WHERE gateway = $1 AND message = $2 LIMIT 1',
              [gatewayId, `crash ${TOTAL - 1}`],
            );
            return rows.length > 0 ? true : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 200, what: 'the last line sent to reach central' },
        );
        // /metrics refreshes its queue gauges once a second: let one refresh see the acks.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        await waitFor(async () => ((await queuedEvents(httpUrl)) === 0 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 200,
          what: 'the gateway queue to drain',
        });
        const counts = await waitFor(
          async () => {
            const { rows } = await client.query(
              'SELECT count(*)::int AS total, count(DISTINCT seq)::int AS distinct, coalesce(max(seq), 0)::int AS max FROM events WHERE gateway = $1',
              [gatewayId],
            );
            const r = rows[0] as { total: number; distinct: number; max: number };
            return r.total > 0 && r.total === r.max ? r : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 500, what: 'a gap-free sequence in central' },
        );
        await gw!.stop();
        const queue = await LevelQueue.open({
          dir: path.join(dir, 'queue'),
          gateway: gatewayId,
          maxRecordEvents: 1,
          flushIntervalMs: 0,
          sync: true,
        });
        const accepted = queue.nextSeq - 1;
        const left = queue.depth.events;
        await queue.close();
        assert.equal(left, 0, 'nothing left unsent');
        assert.equal(counts.distinct, counts.total, 'no duplicates');
        assert.equal(
          counts.total,
          accepted,
          `every accepted event stored (accepted ${accepted} of ${TOTAL} sent)`,
        );
        assert.equal(counts.max, accepted, 'no gap in the sequence');
        assert.ok(accepted > TOTAL * 0.5, `most of the stream was accepted (${accepted})`);
        t.diagnostic(
          `accepted ${accepted} of ${TOTAL} sent; stored ${counts.total}, distinct ${counts.distinct}`,
        );
      } finally {
        await client.end();
      }
    } finally {
      sending = false;
      await gw?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
