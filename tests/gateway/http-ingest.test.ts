/**
 * HTTP ingest on the gateway (issue 20): POST /api/ingest takes NDJSON, JSON arrays and plain
 * lines with a token of the ingest scope and answers 202 once the events are in the queue, bad
 * lines counted and named in the answer; the Elasticsearch `_bulk` shape at /_bulk; a token
 * without the scope is refused (403) and the refusal audited; a body over the cap is refused (413)
 * while it is still being sent, without being read whole; a full queue answers 429 with
 * retry-after.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Event } from '../../protocols/event/schema.ts';
import { LANES } from '../../gateway/queue/leveldb-queue.ts';
import { startTestGateway, type TestGateway } from '../support/stack.ts';

let gw: TestGateway;
let ingestToken = '';
let readToken = '';

async function queued(): Promise<Event[]> {
  const out: Event[] = [];
  for (const lane of LANES)
    for (const r of await gw.gateway.queue.read(lane, null, 1000)) out.push(...r.events);
  return out.filter((e) => e.source === 'http' || e.fields.transport === 'http');
}

async function token(scopes: string[]): Promise<string> {
  const res = await gw.api('/api/auth/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `t-${scopes.join('-')}`, scopes }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

const post = (path: string, body: string, tok = ingestToken, type = 'application/x-ndjson') =>
  fetch(`${gw.gateway.httpUrl()}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tok}`, 'content-type': type },
    body,
  });

before(async () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  gw = await startTestGateway(
    {
      linkUrl: 'ws://127.0.0.1:9/link', // central is away: the queue keeps everything
      gatewayId: 'gw-ingest',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
    { syslog: false, http: { ingest: { max_body_bytes: 1024 * 1024 } } },
  );
  ingestToken = await token(['ingest']);
  readToken = await token(['read']);
});
after(() => gw?.stop());

describe('gateway HTTP ingest', () => {
  it('takes NDJSON objects, JSON strings, plain and syslog lines; names the bad lines; 202 once queued', async () => {
    const body = [
      JSON.stringify({
        '@timestamp': '2026-12-05T10:00:00Z',
        message: 'pump on',
        host: 'hmi-1',
        level: 'warn',
        unit: 4,
      }),
      '"a JSON string line"',
      'a plain line',
      '<34>1 2026-12-05T10:00:01Z plc-7 sshd 42 - - Failed password for root',
      '{"broken": ',
      '',
    ].join('\n');
    const res = await post('/api/ingest', body);
    assert.equal(res.status, 202);
    const answer = (await res.json()) as {
      accepted: number;
      rejected: number;
      problems: Array<{ line: number }>;
    };
    assert.equal(answer.accepted, 4);
    assert.equal(answer.rejected, 1);
    assert.equal(answer.problems[0]!.line, 5);
    const events = await queued();
    const pump = events.find((e) => e.message === 'pump on')!;
    assert.equal(pump.ts, '2026-12-05T10:00:00.000Z');
    assert.equal(pump.host, 'hmi-1');
    assert.equal(pump.severity, 4);
    assert.deepEqual(pump.fields.data, { host: 'hmi-1', level: 'warn', unit: 4 });
    assert.equal(pump.fields.ingest_by, 't-ingest');
    const ssh = events.find((e) => e.source === 'syslog')!;
    assert.equal(ssh.host, 'plc-7');
    assert.equal(ssh.fields.transport, 'http');
    assert.ok(events.some((e) => e.action === 'http.line' && e.message === 'a plain line'));
  });

  it('JSON arrays, and the Elasticsearch _bulk shape (index and create actions)', async () => {
    const before = (await queued()).length;
    const arr = await post(
      '/api/ingest',
      JSON.stringify([{ msg: 'one' }, 'two', 3]),
      ingestToken,
      'application/json',
    );
    assert.equal(arr.status, 202);
    assert.deepEqual(((await arr.json()) as { accepted: number }).accepted, 2);
    const bulk = [
      '{"create":{"_index":"logs"}}',
      '{"@timestamp":"2026-12-05T10:00:02.5Z","log":"from fluent bit"}',
      '{"index":{}}',
      '{"message":"from vector"}',
      '',
    ].join('\n');
    const res = await post('/_bulk', bulk);
    assert.equal(res.status, 200);
    const answer = (await res.json()) as {
      errors: boolean;
      items: Array<Record<string, { status: number }>>;
    };
    assert.equal(answer.errors, false);
    assert.deepEqual(answer.items, [
      { create: { status: 201, result: 'created' } },
      { index: { status: 201, result: 'created' } },
    ]);
    assert.equal((await queued()).length, before + 4);
  });

  it('a token without the ingest scope is refused (403) and audited; no token is 401', async () => {
    const res = await post('/api/ingest', 'x', readToken);
    assert.equal(res.status, 403);
    const bulk = await post('/_bulk', '{"index":{}}\n{"message":"x"}\n', readToken);
    assert.equal(bulk.status, 403);
    assert.equal((await post('/api/ingest', 'x', 'siem_nope')).status, 401);
    const audit = (await (await gw.api('/api/audit?limit=50')).json()) as {
      entries: Array<{ action: string; outcome: string; detail: { token?: string } | null }>;
    };
    assert.ok(
      audit.entries.some(
        (e) => e.action === 'POST /api/ingest' && e.outcome === 'denied' && e.detail?.token === 't-read',
      ),
    );
    assert.ok(audit.entries.some((e) => e.action === 'POST /_bulk' && e.outcome === 'denied'));
  });

  it('a body over the cap is refused with 413 while it is sent, not read whole', async () => {
    const url = new URL(gw.gateway.httpUrl());
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, 'a\n');
    const body = new Readable({
      read() {
        if (produced >= 256 * 1024 * 1024) return this.push(null);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: '/api/ingest',
          method: 'POST',
          headers: { authorization: `Bearer ${ingestToken}`, 'transfer-encoding': 'chunked' },
        },
        (res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
          body.destroy();
          req.destroy();
        },
      );
      req.on('error', (e) => (produced > 0 ? undefined : reject(e)));
      body.pipe(req);
    });
    assert.equal(status, 413);
    assert.ok(produced < 64 * 1024 * 1024, `refused after ${produced} bytes of a 256 MiB body`);
    // And a declared length over the cap before any byte.
    const res = await fetch(`${gw.gateway.httpUrl()}/api/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestToken}` },
      body: Buffer.alloc(2 * 1024 * 1024, 'b'),
    });
    assert.equal(res.status, 413);
  });
});
