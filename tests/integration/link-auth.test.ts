/**
 * Gateway identity and link security (issue: store-and-forward, fault test (e)): enrollment
 * with one-time, expiring tokens; a link authenticated by an Ed25519 proof; revocation that
 * closes the live connection and refuses the next. Every refusal is a security event on central.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { enrollGateway } from '../../gateway/enroll.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { generateGatewayKeys } from '../../protocols/link/auth.ts';
import { waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral } from '../support/stack.ts';
import { rawClient } from '../support/link-client.ts';

describe('gateway enrollment and link authentication', () => {
  let c: TestCentral;
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-auth-'));
  before(async () => {
    c = await startTestCentral({ type: 'pglite' });
  });
  after(async () => {
    await c.central.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The central security events with this action and reason, waiting for them to be stored. */
  const refusals = (action: string, reason: string) =>
    waitFor(
      async () => {
        const events = (await c.events(`source=central`)).filter(
          (e: Event) => e.action === action && e.fields.reason === reason,
        );
        return events.length > 0 ? events : undefined;
      },
      { what: `${action} (${reason})` },
    );

  const token = async (options: { gatewayId?: string; ttlSecs?: number; now?: Date } = {}) =>
    (
      await c.central.registry.createEnrollmentToken({
        gatewayId: options.gatewayId,
        ttlSecs: options.ttlSecs ?? 60,
        now: options.now ?? new Date(),
      })
    ).token;

  const enroll = (t: string, gatewayId: string) =>
    enrollGateway({
      central: c.central.url(),
      token: t,
      gatewayId,
      credentialsFile: path.join(dir, `${gatewayId}.json`),
    });

  it('enrolls with a one-time token and writes the key 0600', async () => {
    const credentials = await enroll(await token(), 'gw-new');
    assert.equal(credentials.gateway_id, 'gw-new');
    assert.equal(statSync(path.join(dir, 'gw-new.json')).mode & 0o777, 0o600);
    const record = await c.central.registry.get('gw-new');
    assert.equal(record?.status, 'active');
    assert.equal(record?.publicKey, credentials.public_key);
    assert.doesNotMatch(JSON.stringify(record), /PRIVATE/, 'central never sees the private key');
  });

  it('refuses a reused token', async () => {
    const t = await token();
    await enroll(t, 'gw-once');
    await assert.rejects(enroll(t, 'gw-twice'), /HTTP 401.*used_token/);
    await refusals('central.enroll_refused', 'used_token');
  });

  it('refuses an expired token', async () => {
    const t = await token({ ttlSecs: 1, now: new Date(Date.now() - 5000) });
    await assert.rejects(enroll(t, 'gw-late'), /HTTP 401.*expired_token/);
    await refusals('central.enroll_refused', 'expired_token');
  });

  it('refuses a wrong token, a token bound to another id, and an open token taking over an id', async () => {
    await assert.rejects(enroll('enr_not-a-real-token-at-all', 'gw-x'), /HTTP 401.*invalid_token/);
    await assert.rejects(enroll(await token({ gatewayId: 'gw-a' }), 'gw-b'), /gateway_mismatch/);
    await assert.rejects(enroll(await token(), 'gw-new'), /HTTP 409.*gateway_exists/);
    await refusals('central.enroll_refused', 'invalid_token');
    await refusals('central.enroll_refused', 'gateway_mismatch');
    await refusals('central.enroll_refused', 'gateway_exists');
  });

  it('refuses a link from an unknown gateway and a proof made with the wrong key', async () => {
    const stranger = await rawClient(c.central.linkUrl());
    await stranger.hello('gw-nobody', generateGatewayKeys().privateKey);
    assert.equal((await stranger.next('error')).code, 'unauthorized');
    assert.equal(await stranger.closed, 1008);
    await refusals('central.link_auth_failure', 'unknown_gateway');

    const impostor = await rawClient(c.central.linkUrl());
    await impostor.hello(c.gatewayId, generateGatewayKeys().privateKey);
    assert.equal((await impostor.next('error')).code, 'unauthorized');
    await refusals('central.link_auth_failure', 'bad_proof');
  });

  it('a hello that is not an answer to this connection’s challenge is refused', async () => {
    // Replaying a proof recorded on another connection: the nonce differs, so the signature does not verify.
    const first = await rawClient(c.central.linkUrl());
    await first.next('challenge');
    const second = await rawClient(c.central.linkUrl());
    await second.hello(c.gatewayId, c.privateKey); // valid for the second connection
    await second.next('welcome');
    second.close();
    first.send({ type: 'hello', v: 1, gateway: c.gatewayId, sent_at: Date.now(), proof: 'AAAA' });
    assert.equal((await first.next('error')).code, 'unauthorized');
  });

  it('revocation closes the live connection and refuses the next one', async () => {
    const key = await enroll(await token({ gatewayId: 'gw-revoke' }), 'gw-revoke');
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: 'gw-revoke', privateKey: key.private_key },
      { syslog: false },
    );
    try {
      await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined), { what: 'the link' });
      const response = await c.api('/api/gateways');
      assert.equal(response.status, 200);
      const listed = (response.body as { gateways: Array<{ id: string; connected: boolean }> }).gateways;
      assert.equal(listed.find((g) => g.id === 'gw-revoke')?.connected, true);

      const revoked = await fetch(`${c.central.url()}/api/gateways/gw-revoke/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.apiToken}` },
      });
      assert.equal(revoked.status, 200);
      await waitFor(() => (gw.gateway.forwarder.connected ? undefined : true), { what: 'the link to close' });
      await refusals('central.link_auth_failure', 'revoked'); // the gateway's reconnection attempts
      assert.equal(gw.gateway.forwarder.connected, false);
      const audit = (await c.events('source=central')).filter(
        (e: Event) => e.action === 'central.gateway_revoked',
      );
      assert.equal(audit.length, 1);
    } finally {
      await gw.stop();
    }
  });

  it('gateway management needs the API token', async () => {
    const anonymous = await fetch(`${c.central.url()}/api/enrollment-tokens`, { method: 'POST', body: '{}' });
    assert.equal(anonymous.status, 401);
    const minted = await fetch(`${c.central.url()}/api/enrollment-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ gateway_id: 'gw-api', ttl_secs: 120 }),
    });
    assert.equal(minted.status, 201);
    const { token: t } = (await minted.json()) as { token: string };
    assert.equal((await enroll(t, 'gw-api')).gateway_id, 'gw-api');
  });
});
