/**
 * The file source in a real `siem-gateway run` process, killed with SIGKILL three times while it
 * reads a 60,000-line file (and more is appended), then restarted each time: when it has caught
 * up, the queue holds every line exactly once (central is away, so nothing leaves the queue).
 * The offsets are committed in the same LevelDB batch as the lines' events, so a kill between
 * reading and writing loses nothing and repeats nothing.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { LANES, LevelQueue } from '../../gateway/queue/leveldb-queue.ts';
import { REPO_ROOT, waitFor } from '../support/env.ts';
import { queuedEvents } from '../support/gateway-metrics.ts';

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `plant line ${from + i} tank=ok\n`).join('');

it(
  'SIGKILL three times while reading a file: every line queued exactly once',
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-file-crash-'));
    const id = 'gw-file-crash';
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(
      path.join(dir, 'credentials.json'),
      JSON.stringify({
        gateway_id: id,
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        central: 'http://127.0.0.1:9',
        enrolled_at: new Date().toISOString(),
      }),
      { mode: 0o600 },
    );
    const log = path.join(dir, 'plant.log');
    writeFileSync(log, lines(0, 60_000));
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `gateway: { id: ${id}, data_dir: ${dir} }`,
        `sources: { plant: { type: file, paths: ["${log}"], max_batch_lines: 500, poll_interval_ms: 50, kind: security } }`,
        'pipeline: { forward: all }',
        'central: { endpoint: "ws://127.0.0.1:9/link", initial_backoff_secs: 5, max_backoff_secs: 5 }',
        'http: { listen: "127.0.0.1:0" }',
        'log: { level: error }',
      ].join('\n'),
    );
    let child: ChildProcess | undefined;
    let httpUrl = '';
    const start = async () => {
      const proc = spawn(
        process.execPath,
        [path.join(REPO_ROOT, 'bin', 'siem-gateway.js'), 'run', '--config', config],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      proc.stdout?.on('data', (d) => (out += d));
      child = proc;
      httpUrl = await waitFor(() => /http: (http:\/\/\S+)\/healthz/.exec(out)?.[1], {
        timeoutMs: 60_000,
        what: 'the gateway to start',
      });
    };
    const kill = async () => {
      const c = child!;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    };
    let total = 60_000;
    try {
      for (let round = 0; round < 3; round++) {
        await start();
        const before = await queuedEvents(httpUrl).catch(() => 0);
        // Killed mid-file: once it has queued some more lines, not all.
        await waitFor(async () => ((await queuedEvents(httpUrl)) > before + 2000 ? true : undefined), {
          timeoutMs: 60_000,
          what: 'more lines queued',
        });
        await kill();
        appendFileSync(log, lines(total, total + 5000));
        total += 5000;
      }
      await start();
      await waitFor(async () => ((await queuedEvents(httpUrl)) >= total ? true : undefined), {
        timeoutMs: 120_000,
        what: `${total} lines queued`,
      });
      const c = child!;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
      child = undefined;
      const queue = await LevelQueue.open({
        dir: path.join(dir, 'queue'),
        gateway: id,
        maxRecordEvents: 200,
        flushIntervalMs: 5,
        sync: false,
      });
      const seen = new Map<number, number>();
      for (const lane of LANES) {
        let after: string | null = null;
        for (;;) {
          const records = await queue.read(lane, after, 200);
          if (records.length === 0) break;
          for (const r of records)
            for (const e of r.events) {
              const n = /^plant line (\d+) /.exec(e.message)?.[1];
              if (n !== undefined) seen.set(Number(n), (seen.get(Number(n)) ?? 0) + 1);
            }
          after = records.at(-1)!.key;
        }
      }
      await queue.close();
      const twice = [...seen].filter(([, k]) => k > 1).length;
      assert.equal(twice, 0, `${twice} lines queued twice`);
      assert.equal(seen.size, total, `${total - seen.size} lines lost`);
    } finally {
      if (child) await kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
