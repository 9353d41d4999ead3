/**
 * Issue 15 item 7: an enrolled gateway must not be able to store events that pass for central's
 * own (source `central`, actions `central.*` such as `central.gateway_revoked`), nor enroll or
 * log in under central's id. Driven through a real link client and the real /enroll endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import { generateGatewayKeys } from '../../protocols/link/auth.ts';
import { rawClient } from '../support/link-client.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';

function event(gateway: string, seq: number, over: Partial<Event>): Event {
  const now = new Date().toISOString();
  return {
    v: EVENT_SCHEMA_VERSION,
    id: `${gateway}:${seq}`,
    gateway,
    seq,
    ts: now,
    received: now,
    source: 'syslog',
    kind: 'security',
    action: 'syslog.message',
    severity: 4,
    message: `event ${seq}`,
    fields: {},
    tags: [],
    ...over,
  };
}

describe('reserved sources and ids on the link (issue 15 item 7)', () => {
  let c: TestCentral;
  before(async () => {
    c = await startTestCentral({ type: 'pglite' });
  });
  after(async () => {
    await c.central.stop();
  });

  it('rejects events of source central or in the central.* action namespace, and counts them', async () => {
    const gw = c.gatewayId;
    const client = await rawClient(c.central.linkUrl());
    await client.hello(gw, c.privateKey);
    await client.next('welcome');
    client.send({
      type: 'batch',
      batch_id: 1,
      events: [
        event(gw, 1, { message: 'an honest event' }),
        event(gw, 2, {
          source: 'central',
          action: 'central.gateway_revoked',
          message: 'gateway "line2-gw" revoked',
        }),
        event(gw, 3, { source: 'central', action: 'syslog.message', message: 'looks like central' }),
        event(gw, 4, { source: 'gateway', action: 'central.link_auth_failure', message: 'forged' }),
      ],
    });
    const ack = await client.next('ack');
    assert.deepEqual(
      { inserted: ack.inserted, duplicates: ack.duplicates, rejected: ack.rejected },
      { inserted: 1, duplicates: 0, rejected: 3 },
    );
    client.close();

    const { rows } = await c.central.store.sql.query<{ seq: string; source: string; action: string }>(
      'SELECT seq, source, action FROM events WHERE gateway = $1 ORDER BY seq',
      [gw],
    );
    assert.deepEqual(
      rows.map((r) => Number(r.seq)),
      [1],
      'only the honest event is stored',
    );
    const forged = (await c.events('source=central')).filter((e) => e.gateway === gw);
    assert.deepEqual(forged, [], 'nothing from the gateway shows up as a central event');
    const metrics = await (await fetch(`${c.central.url()}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(`siem_central_link_events_rejected_total\\{gateway="${gw}",reason="reserved_source"\\} 2`),
    );
    assert.match(
      metrics,
      new RegExp(`siem_central_link_events_rejected_total\\{gateway="${gw}",reason="reserved_action"\\} 1`),
    );
  });

  it("refuses to enroll a gateway under central's own id, without spending the token", async () => {
    const { token } = await c.central.registry.createEnrollmentToken({ ttlSecs: 60, now: new Date() });
    const keys = generateGatewayKeys();
    const post = (gatewayId: string) =>
      fetch(`${c.central.url()}/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, gateway_id: gatewayId, public_key: keys.publicKey }),
      });
    const refused = await post('central');
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: string }).error, /reserved_id/);
    assert.equal(await c.central.registry.get('central'), undefined);
    assert.equal((await post('gw-after-reserved')).status, 201, 'the token still works');
    const bound = await fetch(`${c.central.url()}/api/enrollment-tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.apiToken}` },
      body: JSON.stringify({ gateway_id: 'central' }),
    });
    assert.equal(bound.status, 400, 'no token is issued for that id either');
  });

  it("refuses a link login claiming central's own id even when such a gateway is registered", async () => {
    // A registry from before this check may hold one: insert it the way enrollment would have.
    const keys = generateGatewayKeys();
    await c.central.store.sql.query(
      `INSERT INTO gateways (id, public_key, status, enrolled_at) VALUES ('central', $1, 'active', now())
       ON CONFLICT (id) DO UPDATE SET public_key = EXCLUDED.public_key`,
      [keys.publicKey],
    );
    const client = await rawClient(c.central.linkUrl());
    await client.hello('central', keys.privateKey);
    const error = await client.next('error');
    assert.equal(error.code, 'unauthorized');
    assert.equal(await client.closed, 1008);
  });
});
