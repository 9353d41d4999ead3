/**
 * syslog-ng's http() destination (Debian's syslog-ng-mod-http) driving the gateway's HTTP ingest
 * end to end: syslog-ng follows a file of 2,000 lines and posts them in batches as NDJSON
 * (format-json) with a bearer token of the ingest scope; every line is queued exactly once.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { LANES } from '../../gateway/queue/leveldb-queue.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { requireTool, waitFor } from '../support/env.ts';
import { startTestGateway, type TestGateway } from '../support/stack.ts';

let gw: TestGateway | undefined;
let ng: ChildProcess | undefined;
after(async () => {
  ng?.kill('SIGTERM');
  await gw?.stop();
});

const N = 2000;

it(
  'syslog-ng http() posts a followed file to /api/ingest: every line queued once',
  { timeout: 120_000 },
  async (t) => {
    if (!requireTool(t, 'syslog-ng', 'syslog-ng-mod-http')) return;
    const { privateKey } = generateKeyPairSync('ed25519');
    gw = await startTestGateway(
      {
        linkUrl: 'ws://127.0.0.1:9/link',
        gatewayId: 'gw-syslog-ng',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      { syslog: false },
    );
    const res = await gw.api('/api/auth/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'syslog-ng', scopes: ['ingest'] }),
    });
    const { token } = (await res.json()) as { token: string };
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-syslog-ng-'));
    const input = path.join(dir, 'in.log');
    writeFileSync(input, Array.from({ length: N }, (_, i) => `hmi-3 valve ${i} opened\n`).join(''));
    const conf = path.join(dir, 'syslog-ng.conf');
    writeFileSync(
      conf,
      [
        '@version: 3.38',
        `source s { file("${input}" follow-freq(0.1) flags(no-parse)); };`,
        'destination d {',
        `  http(url("${gw.gateway.httpUrl()}/api/ingest") method("POST")`,
        `    headers("Authorization: Bearer ${token}", "Content-Type: application/x-ndjson")`,
        '    batch-lines(250) batch-timeout(200)',
        '    body("$(format-json message=$MSG host=syslog-ng-box)"));',
        '};',
        'log { source(s); destination(d); };',
      ].join('\n'),
    );
    ng = spawn(
      'syslog-ng',
      [
        '-F',
        '--no-caps',
        '-f',
        conf,
        '-R',
        path.join(dir, 'persist'),
        '-p',
        path.join(dir, 'pid'),
        '-c',
        path.join(dir, 'ctl'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    ng.stderr?.on('data', (d) => (stderr += d));
    const g = gw;
    const events = await waitFor(
      async () => {
        const out: Event[] = [];
        for (const lane of LANES)
          for (const r of await g.gateway.queue.read(lane, null, 10_000)) out.push(...r.events);
        const mine = out.filter((e) => e.source === 'http');
        return mine.length >= N ? mine : undefined;
      },
      { timeoutMs: 60_000, what: `${N} lines from syslog-ng (stderr: ${stderr.slice(0, 500)})` },
    );
    const numbers = events.map((e) => Number(/valve (\d+) opened/.exec(e.message)?.[1]));
    assert.equal(events.length, N);
    assert.equal(new Set(numbers).size, N);
    assert.ok(events.every((e) => e.host === 'syslog-ng-box' && e.fields.ingest_by === 'syslog-ng'));
  },
);
