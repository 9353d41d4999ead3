/**
 * Issue 15 item 8: unauthenticated peers must not write security events without bound. A flood
 * of failed link logins (and of refused enrollments) from one address becomes a few rows: the
 * first refusal per address, reason and interval, then one summary per interval whose
 * `fields.count` carries the rest, so that the counts of the rows add up to the refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateGatewayKeys } from '../../protocols/link/auth.ts';
import { waitFor } from '../support/env.ts';
import { rawClient } from '../support/link-client.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';

const INTERVAL_SECS = 2;

describe('refusal events of unauthenticated peers are aggregated (issue 15 item 8)', () => {
  let c: TestCentral;
  before(async () => {
    c = await startTestCentral(
      { type: 'pglite' },
      {
        link: {
          refusal_summary_interval_secs: INTERVAL_SECS,
          // The flood comes from one address: let it in, so that every attempt is a refusal.
          max_pending_connections: 256,
          max_pending_connections_per_address: 256,
        },
      },
    );
  });
  after(async () => {
    await c.central.stop();
  });

  /** Rows of `action` and the sum of their counts (a row without `fields.count` counts 1). */
  const rows = async (action: string) => {
    const { rows: found } = await c.central.store.sql.query<{ fields: Record<string, unknown> }>(
      'SELECT fields FROM events WHERE action = $1',
      [action],
    );
    const total = found.reduce((n, r) => n + (typeof r.fields.count === 'number' ? r.fields.count : 1), 0);
    return { rows: found.length, total };
  };

  it('400 failed link logins in about a second are a few rows whose counts add up to 400', async (t) => {
    const wrong = generateGatewayKeys();
    const started = Date.now();
    // 400 logins with a wrong key, 50 at a time; each is refused (error, close) before the next.
    for (let wave = 0; wave < 8; wave += 1) {
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const client = await rawClient(c.central.linkUrl());
          await client.hello(c.gatewayId, wrong.privateKey);
          assert.equal((await client.next('error')).code, 'unauthorized');
          await client.closed;
        }),
      );
    }
    const floodSecs = (Date.now() - started) / 1000;
    const metrics = await (await fetch(`${c.central.url()}/metrics`)).text();
    assert.match(metrics, /siem_central_link_auth_failures_total\{reason="bad_proof"\} 400/);
    // Summaries are written when their interval ends: wait until every refusal is in a row.
    const stored = await waitFor(
      async () => {
        const r = await rows('central.link_auth_failure');
        return r.total === 400 ? r : undefined;
      },
      { what: 'the counts of the stored refusals to reach 400', timeoutMs: 20_000 },
    );
    t.diagnostic(`400 failed logins in ${floodSecs} s stored as ${stored.rows} rows`);
    // At most the first refusal and one summary per interval the flood spanned.
    const bound = 2 * (Math.ceil(floodSecs / INTERVAL_SECS) + 1);
    assert.ok(
      stored.rows <= bound,
      `${stored.rows} rows for 400 refusals in ${floodSecs} s (bound ${bound})`,
    );
    const { rows: summaries } = await c.central.store.sql.query<{
      src_ip: string | null;
      fields: Record<string, unknown>;
    }>("SELECT src_ip, fields FROM events WHERE action = 'central.link_auth_failure' AND fields ? 'summary'");
    assert.ok(summaries.length >= 1);
    for (const s of summaries) {
      assert.equal(s.src_ip, '127.0.0.1');
      assert.equal(s.fields.reason, 'bad_proof');
      assert.deepEqual(s.fields.claimed_gateways, [c.gatewayId]);
    }
  });

  it('refused enrollments are aggregated the same way', async () => {
    const keys = generateGatewayKeys();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        fetch(`${c.central.url()}/enroll`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: `enr_guess${i}`, gateway_id: `gw-${i}`, public_key: keys.publicKey }),
        }).then((r) => r.status),
      ),
    );
    assert.deepEqual(new Set(results), new Set([401]));
    const enrollSecs = (Date.now() - started) / 1000;
    const stored = await waitFor(
      async () => {
        const r = await rows('central.enroll_refused');
        return r.total === 100 ? r : undefined;
      },
      { what: 'the counts of the refused enrollments to reach 100', timeoutMs: 20_000 },
    );
    // As above: the first refusal and one summary per interval the flood spanned (a loaded machine
    // stretches the flood over more intervals; 100 rows would mean no aggregation at all).
    const bound = 2 * (Math.ceil(enrollSecs / INTERVAL_SECS) + 1);
    assert.ok(
      stored.rows <= bound,
      `${stored.rows} rows for 100 refused enrollments in ${enrollSecs} s (bound ${bound})`,
    );
  });
});
