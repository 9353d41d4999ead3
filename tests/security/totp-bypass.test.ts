/**
 * Attack (security review, issue 15 item 1): a user who must use TOTP but has not enrolled it logs
 * in with the password alone, which gives a session limited to enrolment. Under the old rule that
 * session reached everything under /api/auth/*, including POST /api/auth/tokens, so the password
 * alone minted an API token with the role's full scopes; and tokens were never held to the TOTP
 * rule. Checked on both servers: a pending session may only enrol TOTP, read `me` and log out,
 * such a user's tokens are refused until enrolment, and every refusal is audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totpCode } from '../../server-shared/web-auth/totp.ts';
import { TARGETS, type TargetServer } from './servers.ts';

const PASSWORD = 'ops-password-123';

for (const [name, start] of TARGETS) {
  describe(`TOTP enrolment cannot be bypassed (${name})`, () => {
    let s: TargetServer;
    let admin: Awaited<ReturnType<TargetServer['api']['session']>>;
    before(async () => {
      s = await start();
      admin = await s.api.session('admin', s.adminPassword);
      const created = await admin.call('POST', '/api/users', {
        body: { username: 'ops', password: PASSWORD, role: 'analyst' },
      });
      assert.equal(created.status, 201);
    });
    after(() => s?.stop());

    it('holds a pending session to enrolment, me and logout, and refuses the tokens of its user until enrolled', async () => {
      // Before the rule applies, ops makes a token the normal way.
      const ops = await s.api.session('ops', PASSWORD);
      const minted = await ops.call('POST', '/api/auth/tokens', { body: { name: 'ci', scopes: ['read'] } });
      assert.equal(minted.status, 201);
      const token = minted.body.token as string;
      assert.equal((await s.api.call('GET', s.readPath, { token })).status, 200);

      const required = await admin.call('PATCH', '/api/users/ops', { body: { require_totp: true } });
      assert.equal(required.status, 200);

      // The password alone: a session limited to enrolment.
      const pending = await s.api.session('ops', PASSWORD);
      const me = await pending.call('GET', '/api/auth/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.totp_enrollment_required, true);
      assert.deepEqual(me.body.permissions, []);

      const stolen = await pending.call('POST', '/api/auth/tokens', {
        body: { name: 'stolen', scopes: ['read', 'alerts', 'rules'] },
      });
      assert.equal(stolen.status, 403, 'no API token from the password alone');
      assert.equal(stolen.body.totp_enrollment_required, true);
      assert.equal(stolen.body.token, undefined);
      assert.equal((await pending.call('GET', '/api/auth/tokens')).status, 403);
      assert.equal(
        (await pending.call('DELETE', `/api/auth/tokens/${minted.body.id as string}`)).status,
        403,
      );
      const password = await pending.call('POST', '/api/auth/password', {
        body: { current: PASSWORD, new: 'changed-by-attacker-1' },
      });
      assert.equal(password.status, 403, 'no password change before enrolment');
      assert.equal((await pending.call('GET', s.readPath)).status, 403);
      const tokens = await admin.call('GET', '/api/auth/tokens');
      assert.deepEqual(
        (tokens.body.tokens as Array<{ name: string }>).map((t) => t.name),
        ['ci'],
        'nothing was minted',
      );

      const held = await s.api.call('GET', s.readPath, { token });
      assert.equal(held.status, 403, 'a token of a user who must enrol TOTP is refused');
      assert.equal(held.body.totp_enrollment_required, true);
      assert.equal((await s.api.call('GET', '/api/auth/me', { token })).status, 403);

      // Logging out is allowed to a pending session.
      const other = await s.api.session('ops', PASSWORD);
      assert.equal((await other.call('POST', '/api/auth/logout')).status, 200);

      // Enrolment is allowed, and lifts the hold on the session and on the token.
      const setup = await pending.call('POST', '/api/auth/totp/setup');
      assert.equal(setup.status, 200);
      const secret = setup.body.secret as string;
      const enabled = await pending.call('POST', '/api/auth/totp/enable', {
        body: { code: totpCode(secret, s.now()) },
      });
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.equal((await pending.call('GET', s.readPath)).status, 200);
      assert.equal((await s.api.call('GET', s.readPath, { token })).status, 200, 'the token works again');

      // Every refusal is audited, the reads included, with how the caller came.
      const audit = await admin.call('GET', '/api/audit?action=auth.totp_enrollment_required&limit=100');
      const entries = audit.body.entries as Array<{
        actor: string;
        target: string;
        outcome: string;
        detail: { via: string; token?: string };
      }>;
      assert.ok(entries.every((e) => e.actor === 'ops' && e.outcome === 'denied'));
      assert.ok(entries.some((e) => e.target === 'POST /api/auth/tokens' && e.detail.via === 'session'));
      assert.ok(entries.some((e) => e.target === 'POST /api/auth/password'));
      assert.ok(entries.some((e) => e.target === `GET ${s.readPath}` && e.detail.via === 'session'));
      assert.ok(
        entries.some(
          (e) => e.target === `GET ${s.readPath}` && e.detail.via === 'token' && e.detail.token === 'ci',
        ),
      );
      assert.equal(entries.length, 7, 'each of the seven refusals above, once');
    });

    it('audits a login that stops at "TOTP code required", without counting it towards a lockout', async () => {
      s.advance(30_000);
      for (let i = 0; i < 6; i++) {
        const noCode = await s.api.login('ops', PASSWORD);
        assert.equal(noCode.status, 401);
        assert.equal(noCode.body.totp_required, true);
      }
      const audit = await admin.call('GET', '/api/audit?action=auth.login_failed&limit=100');
      const entries = audit.body.entries as Array<{ target: string; detail: { reason: string } | null }>;
      const missing = entries.filter((e) => e.target === 'ops' && e.detail?.reason === 'totp code required');
      assert.equal(missing.length, 6);
    });
  });
}
