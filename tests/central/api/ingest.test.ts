/**
 * HTTP ingest on central (issue 20), on PGlite: POST /api/ingest answers 202 once the events are
 * committed (they are found by search at once, with central's id as their gateway), the `_bulk`
 * shape at /_bulk, bad lines named, a token without the ingest scope refused and audited, a
 * body over the cap refused with 413.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestCentral, type TestCentral } from '../../support/stack.ts';

let c: TestCentral;
let readToken = '';

const post = (p: string, body: string, token = c.apiToken) =>
  fetch(`${c.central.url()}${p}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body,
  });

before(async () => {
  c = await startTestCentral(
    { type: 'pglite', data_dir: mkdtempSync(path.join(tmpdir(), 'siem-c-ingest-')) },
    { privateKey: 'unused' },
  );
  const login = await fetch(`${c.central.url()}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(c.admin),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  const res = await fetch(`${c.central.url()}/api/auth/tokens`, {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': csrf_token, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'reader', scopes: ['read'] }),
  });
  readToken = ((await res.json()) as { token: string }).token;
});
after(() => c?.central.stop());

describe('central HTTP ingest', () => {
  it('202 after the commit: the events are searchable at once, central as their gateway', async () => {
    const res = await post(
      '/api/ingest',
      `{"message":"central-ingest-marker one","host":"hist-1"}\ncentral-ingest-marker two\n{"bad":\n`,
    );
    assert.equal(res.status, 202);
    const answer = (await res.json()) as { accepted: number; rejected: number };
    assert.deepEqual([answer.accepted, answer.rejected], [2, 1]);
    const found = await c.api('/api/events?q=central-ingest-marker');
    const events = (found.body as { events: Array<{ gateway: string; source: string; host?: string }> })
      .events;
    assert.equal(events.length, 2);
    assert.ok(events.every((e) => e.source === 'http' && e.gateway === 'central'));
  });

  it('the _bulk shape, and a token without the ingest scope refused and audited', async () => {
    const bulk = await post('/_bulk', '{"index":{}}\n{"message":"central-bulk-marker"}\n');
    assert.equal(bulk.status, 200);
    assert.equal(((await bulk.json()) as { errors: boolean }).errors, false);
    const bulkFound = (await c.api('/api/events?q=central-bulk-marker')).body as { events: unknown[] };
    assert.equal(bulkFound.events.length, 1);
    assert.equal((await post('/api/ingest', 'x', readToken)).status, 403);
    const audit = await c.api('/api/audit?action=POST%20/api/ingest');
    const entries = (audit.body as { entries: Array<{ outcome: string; actor: string }> }).entries;
    assert.ok(
      entries.some((e) => e.outcome === 'denied'),
      JSON.stringify(audit.body),
    );
  });

  it('a declared body over the cap is refused with 413', async () => {
    const res = await post('/api/ingest', 'x'.repeat(5 * 1024 * 1024));
    assert.equal(res.status, 413);
  });
});
