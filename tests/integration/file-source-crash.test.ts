/**
 * The file source in a real `siem-gateway run` process, killed with SIGKILL three times while it
 * reads a 60,000-line file (and more is appended), then restarted each time: when it has caught
 * up, the queue holds every line exactly once (central is away, so nothing leaves the queue).
 * The offsets are committed in the same LevelDB batch as the lines' events, so a kill between
 * reading and writing loses nothing and repeats nothing.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { type GatewayServer, startGatewayProcess } from '../soak/processes.ts';
import { waitFor } from '../support/env.ts';
import { queuedEvents } from '../support/gateway-metrics.ts';
import { readStoppedQueue, writeOfflineCredentials } from '../support/offline-gateway.ts';

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `plant line ${from + i} tank=ok\n`).join('');

it(
  'SIGKILL three times while reading a file: every line queued exactly once',
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-file-crash-'));
    const id = 'gw-file-crash';
    const deadLink = await writeOfflineCredentials(dir, id);
    const log = path.join(dir, 'plant.log');
    writeFileSync(log, lines(0, 60_000));
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `gateway: { id: ${id}, data_dir: ${dir} }`,
        `sources: { plant: { type: file, paths: ["${log}"], max_batch_lines: 500, poll_interval_ms: 50, kind: security } }`,
        'pipeline: { forward: all }',
        `central: { endpoint: "${deadLink}", initial_backoff_secs: 5, max_backoff_secs: 5 }`,
        'http: { listen: "127.0.0.1:0" }',
        'log: { level: error }',
      ].join('\n'),
    );
    let gw: GatewayServer | undefined;
    let total = 60_000;
    try {
      for (let round = 0; round < 3; round++) {
        gw = await startGatewayProcess(config, false);
        const { httpUrl } = gw;
        const before = await queuedEvents(httpUrl).catch(() => 0);
        // Killed mid-file: once it has queued some more lines, not all.
        await waitFor(async () => ((await queuedEvents(httpUrl)) > before + 2000 ? true : undefined), {
          timeoutMs: 60_000,
          what: 'more lines queued',
        });
        await gw.kill();
        appendFileSync(log, lines(total, total + 5000));
        total += 5000;
      }
      gw = await startGatewayProcess(config, false);
      const { httpUrl } = gw;
      await waitFor(async () => ((await queuedEvents(httpUrl)) >= total ? true : undefined), {
        timeoutMs: 120_000,
        what: `${total} lines queued`,
      });
      await gw.stop();
      const seen = new Map<number, number>();
      for (const e of await readStoppedQueue(dir, id)) {
        const n = /^plant line (\d+) /.exec(e.message)?.[1];
        if (n !== undefined) seen.set(Number(n), (seen.get(Number(n)) ?? 0) + 1);
      }
      const twice = [...seen].filter(([, k]) => k > 1).length;
      assert.equal(twice, 0, `${twice} lines queued twice`);
      assert.equal(seen.size, total, `${total - seen.size} lines lost`);
    } finally {
      await gw?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
