/**
 * First boot with `central.endpoints` (issue 22 ask 1): the real `siem-gateway run` finds an
 * enrollment token in its data directory while the first listed node is down; it enrolls through
 * the next node that answers, spends the token, and its link comes up there.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stopChild, track } from '../bench/support/procs.ts';
import { freePort, REPO_ROOT, waitFor } from '../support/env.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';

describe('first-boot enrollment with several central endpoints', () => {
  let c: TestCentral;
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-enroll-any-'));
  before(async () => {
    c = await startTestCentral({ type: 'pglite' });
  });
  after(async () => {
    await c?.central.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the first node is down: enrolls through the second and links there', { timeout: 120_000 }, async () => {
    const { token } = await c.central.registry.createEnrollmentToken({
      gatewayId: 'gw-first-boot',
      ttlSecs: 120,
      now: new Date(),
    });
    const data = path.join(dir, 'data');
    const tokenFile = path.join(data, 'enrollment-token');
    mkdirSync(data, { recursive: true, mode: 0o700 });
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const dead = `ws://127.0.0.1:${await freePort()}/link`;
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `gateway: { id: gw-first-boot, data_dir: ${data} }`,
        'sources: {}',
        `central: { endpoints: ["${dead}", "${c.central.linkUrl()}"], initial_backoff_secs: 0.05, max_backoff_secs: 0.5 }`,
        'http: { listen: "127.0.0.1:0" }',
        'log: { level: error }',
      ].join('\n'),
    );
    const child = track(
      spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'siem-gateway.js'), 'run', '--config', config], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const httpUrl = await waitFor(
        () => {
          if (child.exitCode !== null) return `exited: ${out}`;
          return /http: (http:\/\/\S+)\/healthz/.exec(out)?.[1];
        },
        { timeoutMs: 90_000, intervalMs: 50, what: 'the gateway to start' },
      );
      assert.match(httpUrl, /^http:/, out);
      assert.match(out, /enrolled as "gw-first-boot"/);
      assert.equal(existsSync(tokenFile), false, 'the spent token is deleted');
      const record = await c.central.registry.get('gw-first-boot');
      assert.ok(record, 'central knows the gateway');
      await waitFor(
        async () => {
          const res = await fetch(`${httpUrl}/healthz`);
          return ((await res.json()) as { status: string }).status === 'ok' ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'the link up on the second node' },
      );
    } finally {
      await stopChild(child, 10_000);
    }
  });
});
