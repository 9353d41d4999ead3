/**
 * `npm start` as a new user would try it: start the demo, read the ports it prints, send a
 * message with the real `logger`, find it through the printed API URL and token, then Ctrl-C
 * (SIGINT) and expect a clean exit. The simulated switch's traffic must show up too.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, requireTool, waitFor } from '../support/env.ts';

const run = promisify(execFile);

it(
  'npm start: logger → printed port → GET /api/events within 2 s; Ctrl-C stops cleanly',
  {
    timeout: 90_000,
  },
  async (t) => {
    if (!requireTool(t, 'logger', 'bsdutils (util-linux)')) return;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-demo-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'firmware-shims/demo/start.ts'], {
      cwd: REPO_ROOT,
      // Port 0: the standard ports may be taken on a CI machine; the demo prints what it got.
      env: {
        ...process.env,
        DEMO_DATA_DIR: dataDir,
        DEMO_CENTRAL_PORT: '0',
        DEMO_SYSLOG_PORT: '0',
        DEMO_GATEWAY_HTTP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => (out.includes('Press Ctrl-C') ? true : undefined), {
        timeoutMs: 60_000,
        what: `the demo banner; stderr: ${err}`,
      });
      const port = Number(/logger -n 127\.0\.0\.1 -P (\d+) -d/.exec(out)?.[1]);
      const token = /API token: (\S+)/.exec(out)?.[1];
      const api = /REST API: (\S+)/.exec(out)?.[1];
      assert.ok(port > 0 && token && api, out);

      const marker = `hello-${randomBytes(4).toString('hex')}`;
      const sent = Date.now();
      await run('logger', ['-n', '127.0.0.1', '-P', String(port), '-d', marker]);
      const events = await waitFor(
        async () => {
          const res = await fetch(`${api}?q=${marker}`, { headers: { authorization: `Bearer ${token}` } });
          const body = (await res.json()) as { events: Array<{ message: string }> };
          return body.events.length > 0 ? body.events : undefined;
        },
        { what: 'the logger message via the API' },
      );
      const ms = Date.now() - sent;
      assert.equal(events[0]?.message, marker);
      assert.ok(ms < 2000, `found after ${ms} ms`);

      const fromSwitch = await waitFor(
        async () => {
          const res = await fetch(`${api}?host=sw-line2-01`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const body = (await res.json()) as { events: unknown[] };
          return body.events.length > 0 ? body.events : undefined;
        },
        { what: 'simulated switch traffic', timeoutMs: 15_000 },
      );
      assert.ok(fromSwitch.length > 0);

      // A newcomer sees alerts within a minute: the switch's SSH brute force, detected at the edge.
      const alert = await waitFor(
        async () => {
          const res = await fetch(`${api}?source=gateway&q=SSH%20brute%20force`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const body = (await res.json()) as {
            events: Array<{ kind: string; threat?: { techniques: string[] } }>;
          };
          return body.events.find((e) => e.kind === 'alert');
        },
        { what: 'an alert from the simulated attack', timeoutMs: 60_000, intervalMs: 500 },
      );
      assert.deepEqual(alert.threat?.techniques, ['T0812']);
      // …and in central's alert queue, as the printed command shows.
      const queue = /(curl -s -H '[^']+' '([^']+\/api\/alerts)')/.exec(out)?.[2];
      assert.ok(queue, out);
      const queued = await waitFor(async () => {
        const res = await fetch(queue, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { alerts: Array<{ rule_title: string; status: string }> };
        return body.alerts.find((a) => a.rule_title === 'SSH brute force against a plant host');
      });
      assert.equal(queued.status, 'new');
    } finally {
      child.kill('SIGINT');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      assert.equal(code, 0, `exit code; stderr: ${err}`);
      assert.match(out, /Stopped\./);
    }
  },
);
