/**
 * The access-control behaviour both servers must show over real HTTP (server-shared/web-auth/SPEC.md),
 * written once and run against central and against the gateway: login and its refusals, lockout,
 * TOTP with replay refusal, cookie flags, session fixation, CSRF, roles, scoped API tokens, the
 * audit log, secrets kept out of the audit log and the logs, the first admin, session expiry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totpCode } from '../../../server-shared/web-auth/totp.ts';
import { createClient } from './client.ts';

export interface AuthServer {
  url: string;
  cookieName: string;
  /** What the server printed to stdout (the first admin's password, once). */
  printed: string[];
  /** Everything the server logged through pino (debug level). */
  logs(): string;
  /** The injected clock of sessions, TOTP and the audit log. */
  advance(ms: number): void;
  now(): number;
  /** True when this text appears anywhere in the server's auth storage (rows or files). */
  storageContains(text: string): Promise<boolean>;
  /** A GET every role may read, and a state change needing `admin` beyond the user API. */
  readPath: string;
  adminAction?: { method: string; path: string; body: unknown };
  stop(): Promise<void>;
}

export interface StartOptions {
  passwordFile?: string;
}

const PASSWORDS = {
  viewer: 'viewer-password-1',
  analyst: 'analyst-password-2',
  victim: 'victim-password-3',
  totp: 'totp-user-password-4',
  req: 'required-totp-pass-5',
};

export function runWebAuthApiSuite(name: string, start: (o: StartOptions) => Promise<AuthServer>) {
  describe(`web access control over HTTP (${name})`, () => {
    let s: AuthServer;
    let api: ReturnType<typeof createClient>;
    let adminPassword: string;
    let admin: Awaited<ReturnType<ReturnType<typeof createClient>['session']>>;
    const secrets: string[] = [...Object.values(PASSWORDS)];

    before(async () => {
      s = await start({});
      api = createClient(s.url, s.cookieName);
      assert.equal(s.printed.length, 1, 'the first admin password is printed once');
      const match = /username "admin", password (\S+)/.exec(s.printed[0]!);
      assert.ok(match, s.printed[0]);
      adminPassword = match[1]!;
      secrets.push(adminPassword);
      admin = await api.session('admin', adminPassword);
      for (const role of ['viewer', 'analyst'] as const) {
        const r = await admin.call('POST', '/api/users', {
          body: { username: role, password: PASSWORDS[role], role },
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
    });
    after(() => s?.stop());

    it('creates the first admin with a random password, printed once and never logged', async () => {
      assert.ok(
        adminPassword.length >= 16 &&
          /[A-Za-z]/.test(adminPassword) &&
          /[^A-Za-z]|[A-Z].*[a-z]/.test(adminPassword),
      );
      assert.ok(!s.logs().includes(adminPassword), 'the password is not in the logs');
      assert.ok(!(await s.storageContains(adminPassword)), 'only its scrypt hash is stored');
      assert.ok(await s.storageContains('scrypt$32768$8$1$'));
    });

    it('keeps /api behind a login; health and metrics stay open', async () => {
      assert.equal((await api.call('GET', s.readPath)).status, 401);
      assert.equal((await api.call('GET', '/api/auth/me')).status, 401);
      assert.equal((await api.call('GET', '/api/no-such-route')).status, 401, 'no route probing');
      assert.equal((await api.call('GET', s.readPath, { token: 'siem_not-a-token' })).status, 401);
      for (const open of ['/healthz', '/metrics']) {
        const res = await fetch(`${s.url}${open}`);
        assert.ok(res.status === 200 || res.status === 503, `${open}: ${res.status}`);
        await res.arrayBuffer();
      }
    });

    it('logs in with an HttpOnly SameSite=Strict cookie; bad password and unknown user get the same 401', async () => {
      const ok = await api.login('viewer', PASSWORDS.viewer);
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body.user, { username: 'viewer', role: 'viewer', totp_enabled: false });
      assert.deepEqual(ok.body.permissions, ['read']);
      assert.match(ok.csrf, /^[A-Za-z0-9_-]{40,}$/);
      assert.match(ok.setCookie, /HttpOnly/);
      assert.match(ok.setCookie, /SameSite=Strict/);
      assert.match(ok.setCookie, /Path=\//);
      assert.doesNotMatch(ok.setCookie, /Secure/, 'not Secure over plain http');
      const me = await api.call('GET', '/api/auth/me', { cookie: ok.cookie });
      assert.equal(me.status, 200);
      assert.equal(me.body.csrf_token, ok.csrf);

      const bad = await api.login('viewer', 'wrong-password-x');
      const unknown = await api.login('nobody-here', 'wrong-password-x');
      assert.equal(bad.status, 401);
      assert.deepEqual(bad.body, { error: 'invalid credentials', code: 'invalid_credentials' });
      assert.equal(unknown.status, bad.status);
      assert.deepEqual(unknown.body, bad.body);
      assert.equal(bad.setCookie, '');
    });

    it('refuses a login posted as a form or as text (no cross-site form login)', async () => {
      for (const type of [
        'application/x-www-form-urlencoded',
        'text/plain',
        'multipart/form-data; boundary=x',
      ]) {
        const r = await api.call('POST', '/api/auth/login', {
          headers: { 'content-type': type },
          body: JSON.stringify({ username: 'viewer', password: PASSWORDS.viewer }),
        });
        assert.equal(r.status, 415, type);
        assert.equal(r.headers.get('set-cookie'), null);
      }
    });

    it('locks a username out after 5 failures with 429 and retry-after, and audits it', async () => {
      const r = await admin.call('POST', '/api/users', {
        body: { username: 'victim', password: PASSWORDS.victim },
      });
      assert.equal(r.status, 201);
      for (let i = 0; i < 5; i++) assert.equal((await api.login('victim', `guess-number-${i}`)).status, 401);
      const locked = await api.login('victim', PASSWORDS.victim);
      assert.equal(locked.status, 429, 'even the right password while locked');
      const retry = Number(locked.headers.get('retry-after'));
      assert.ok(retry > 800 && retry <= 900, `retry-after ${retry}`);
      assert.equal(locked.setCookie, '');
      const audit = await admin.call('GET', '/api/audit?action=auth.lockout');
      assert.equal((audit.body.entries as Array<{ target: string }>)[0]?.target, 'victim');
      s.advance(15 * 60_000 + 1000);
      assert.equal((await api.login('victim', PASSWORDS.victim)).status, 200, 'unlocked after 15 min');
      admin = await api.session('admin', adminPassword);
    });

    it('issues a new session at login and destroys the presented one (no fixation)', async () => {
      const planted = 'attacker-chosen-session-value';
      const first = await api.login('viewer', PASSWORDS.viewer, undefined, planted);
      assert.notEqual(first.cookie, planted);
      assert.equal((await api.call('GET', '/api/auth/me', { cookie: planted })).status, 401);
      const second = await api.login('viewer', PASSWORDS.viewer, undefined, first.cookie);
      assert.equal(second.status, 200);
      assert.notEqual(second.cookie, first.cookie);
      assert.equal(
        (await api.call('GET', '/api/auth/me', { cookie: first.cookie })).status,
        401,
        'old id is dead',
      );
      assert.equal((await api.call('GET', '/api/auth/me', { cookie: second.cookie })).status, 200);
      const out = await api.call('POST', '/api/auth/logout', { cookie: second.cookie, csrf: second.csrf });
      assert.equal(out.status, 200);
      assert.equal((await api.call('GET', '/api/auth/me', { cookie: second.cookie })).status, 401);
    });

    it('refuses cookie-authenticated changes without the CSRF token or from a foreign origin', async () => {
      const body = { username: 'csrf-made', password: 'csrf-made-password', role: 'viewer' };
      const noToken = await api.call('POST', '/api/users', { cookie: admin.cookie, body });
      assert.equal(noToken.status, 403);
      const wrong = await api.call('POST', '/api/users', {
        cookie: admin.cookie,
        csrf: 'x'.repeat(43),
        body,
      });
      assert.equal(wrong.status, 403);
      const foreign = await admin.call('POST', '/api/users', {
        body,
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(foreign.status, 403);
      assert.equal((await admin.call('GET', '/api/users')).body.users instanceof Array, true);
      const users = (await admin.call('GET', '/api/users')).body.users as Array<{ username: string }>;
      assert.ok(!users.some((u) => u.username === 'csrf-made'), 'nothing was created');
      const ok = await admin.call('POST', '/api/users', { body, headers: { origin: s.url } });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    });

    it('lets a viewer read but not administer; an analyst cannot manage users', async () => {
      const viewer = await api.session('viewer', PASSWORDS.viewer);
      assert.equal((await viewer.call('GET', s.readPath)).status, 200);
      const denied = await viewer.call('POST', '/api/users', {
        body: { username: 'by-viewer', password: 'by-viewer-password', role: 'admin' },
      });
      assert.equal(denied.status, 403);
      assert.match(denied.body.error!, /requires permission admin/);
      assert.equal((await viewer.call('GET', '/api/audit')).status, 403, 'audit log is admin-only');
      assert.equal((await viewer.call('GET', '/api/users')).status, 403);
      if (s.adminAction) {
        const a = s.adminAction;
        assert.equal((await viewer.call(a.method, a.path, { body: a.body })).status, 403);
      }
      const analyst = await api.session('analyst', PASSWORDS.analyst);
      assert.equal((await analyst.call('GET', s.readPath)).status, 200);
      assert.equal((await analyst.call('GET', '/api/users')).status, 403);
      assert.equal(
        (await analyst.call('PATCH', '/api/users/viewer', { body: { role: 'admin' } })).status,
        403,
      );
      assert.equal((await analyst.call('DELETE', '/api/users/viewer')).status, 403);
    });

    it('requires TOTP once enabled, accepts a code once, and refuses a replay', async () => {
      await admin.call('POST', '/api/users', {
        body: { username: 'otp', password: PASSWORDS.totp, role: 'analyst' },
      });
      const user = await api.session('otp', PASSWORDS.totp);
      const setup = await user.call('POST', '/api/auth/totp/setup');
      assert.equal(setup.status, 200);
      const secret = setup.body.secret as string;
      secrets.push(secret);
      assert.match(setup.body.otpauth_url as string, /^otpauth:\/\/totp\/.*secret=/);
      assert.equal(
        (await user.call('POST', '/api/auth/totp/enable', { body: { code: '000000' } })).status,
        403,
      );
      const enable = await user.call('POST', '/api/auth/totp/enable', {
        body: { code: totpCode(secret, s.now()) },
      });
      assert.equal(enable.status, 200, JSON.stringify(enable.body));

      s.advance(30_000);
      const noCode = await api.login('otp', PASSWORDS.totp);
      assert.equal(noCode.status, 401);
      assert.equal(noCode.body.totp_required, true);
      assert.equal(noCode.setCookie, '');
      const wrongPassword = await api.login('otp', 'not-the-password');
      assert.deepEqual(
        wrongPassword.body,
        { error: 'invalid credentials', code: 'invalid_credentials' },
        'no totp hint without the password',
      );
      const code = totpCode(secret, s.now());
      const ok = await api.login('otp', PASSWORDS.totp, code);
      assert.equal(ok.status, 200);
      assert.equal((ok.body.user as { totp_enabled: boolean }).totp_enabled, true);
      const replay = await api.login('otp', PASSWORDS.totp, code);
      assert.equal(replay.status, 401, 'a code is accepted once');
      assert.deepEqual(replay.body, { error: 'invalid credentials', code: 'invalid_credentials' });
      s.advance(30_000);
      assert.equal((await api.login('otp', PASSWORDS.totp, totpCode(secret, s.now()))).status, 200);
    });

    it('limits a user whose TOTP an admin requires to enrolment until enabled', async () => {
      await admin.call('POST', '/api/users', {
        body: { username: 'req', password: PASSWORDS.req, role: 'viewer', require_totp: true },
      });
      const user = await api.session('req', PASSWORDS.req);
      const read = await user.call('GET', s.readPath);
      assert.equal(read.status, 403);
      assert.equal(read.body.totp_enrollment_required, true);
      const setup = await user.call('POST', '/api/auth/totp/setup');
      const secret = setup.body.secret as string;
      secrets.push(secret);
      const enabled = await user.call('POST', '/api/auth/totp/enable', {
        body: { code: totpCode(secret, s.now()) },
      });
      assert.equal(enabled.status, 200);
      assert.equal((await user.call('GET', s.readPath)).status, 200, 'the same session, now full');
      s.advance(30_000);
    });

    it('gives scoped API tokens: shown once, stored hashed, no more than their scope, refused once expired', async () => {
      const analyst = await api.session('analyst', PASSWORDS.analyst);
      const tooMuch = await analyst.call('POST', '/api/auth/tokens', {
        body: { name: 'x', scopes: ['admin'] },
      });
      assert.equal(tooMuch.status, 403, 'no scope beyond the role');
      const created = await analyst.call('POST', '/api/auth/tokens', {
        body: { name: 'grafana', scopes: ['read'], expires_in_secs: 600 },
      });
      assert.equal(created.status, 201);
      const token = created.body.token as string;
      secrets.push(token);
      assert.match(token, /^siem_[A-Za-z0-9_-]{43}$/);
      const list = await analyst.call('GET', '/api/auth/tokens');
      assert.ok(!JSON.stringify(list.body).includes(token), 'listed without the value');
      assert.equal((list.body.tokens as unknown[]).length, 1);
      assert.ok(!(await s.storageContains(token)), 'the token is not stored in clear');

      assert.equal((await api.call('GET', s.readPath, { token })).status, 200);
      const post = await api.call('POST', '/api/auth/tokens', {
        token,
        body: { name: 'y', scopes: ['read'] },
      });
      assert.equal(post.status, 400, 'a token cannot mint tokens');
      const write = await api.call('POST', '/api/users', {
        token,
        body: { username: 'by-token', password: 'by-token-password' },
      });
      assert.equal(write.status, 403, 'scope read cannot POST');
      assert.equal((await api.call('GET', '/api/users', { token })).status, 403);

      s.advance(601_000);
      const expired = await api.call('GET', s.readPath, { token });
      assert.equal(expired.status, 401, 'expired');
      admin = await api.session('admin', adminPassword);
      const id = (created.body as { id: string }).id;
      assert.equal((await admin.call('DELETE', `/api/auth/tokens/${id}`)).status, 204, 'admin revokes any');
    });

    it('ends sessions after the idle timeout and after the absolute lifetime', async () => {
      const idle = await api.session('viewer', PASSWORDS.viewer);
      s.advance(3599_000);
      assert.equal((await idle.call('GET', '/api/auth/me')).status, 200, 'used within the idle time');
      s.advance(3601_000);
      assert.equal((await idle.call('GET', '/api/auth/me')).status, 401, 'idle for over an hour');

      const busy = await api.session('viewer', PASSWORDS.viewer);
      for (let elapsed = 0; elapsed < 43_200_000 - 1_800_000; elapsed += 1_800_000) {
        s.advance(1_800_000);
        assert.equal((await busy.call('GET', '/api/auth/me')).status, 200, `at ${elapsed / 1000} s`);
      }
      s.advance(1_800_000 + 1000);
      assert.equal((await busy.call('GET', '/api/auth/me')).status, 401, 'past 12 h, however busy');
      admin = await api.session('admin', adminPassword);
    });

    it('audits logins and changes with actor and address, admin-only, and never a secret', async () => {
      const page = await admin.call('GET', '/api/audit?limit=1000');
      assert.equal(page.status, 200);
      const entries = page.body.entries as Array<Record<string, unknown>>;
      const find = (action: string, pred: (e: Record<string, unknown>) => boolean = () => true) =>
        entries.find((e) => e.action === action && pred(e));
      const login = find('auth.login', (e) => e.actor === 'viewer');
      assert.ok(login, 'a login');
      assert.equal(login.address, '127.0.0.1');
      assert.match(login.ts as string, /^\d{4}-\d\d-\d\dT/);
      assert.ok(
        find('auth.login_failed', (e) => e.target === 'nobody-here'),
        'a failure for an unknown user',
      );
      assert.ok(find('user.create', (e) => e.actor === 'admin' && e.target === 'analyst'));
      assert.ok(find('token.create', (e) => e.actor === 'analyst'));
      assert.ok(find('auth.totp_enable', (e) => e.actor === 'otp'));
      assert.ok(find('auth.logout'));
      const denied = entries.find((e) => e.actor === 'viewer' && e.outcome === 'denied');
      assert.ok(denied, 'a refused change by the viewer');
      const byActor = await admin.call('GET', '/api/audit?actor=otp&limit=5');
      assert.ok((byActor.body.entries as Array<{ actor: string }>).every((e) => e.actor === 'otp'));

      const text = JSON.stringify(entries);
      const logs = s.logs();
      for (const secret of secrets) {
        assert.ok(!text.includes(secret), 'no secret in the audit log');
        assert.ok(!logs.includes(secret), 'no secret in the logs');
      }
    });

    it('creates the first admin from password_file, printing nothing', async () => {
      const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const path = await import('node:path');
      const dir = mkdtempSync(path.join(tmpdir(), 'siem-pw-'));
      const file = path.join(dir, 'admin-password');
      writeFileSync(file, 'from-a-file-0123456789\n', { mode: 0o600 });
      const other = await start({ passwordFile: file });
      try {
        assert.deepEqual(other.printed, []);
        const c = createClient(other.url, other.cookieName);
        assert.equal((await c.login('admin', 'from-a-file-0123456789')).status, 200);
        assert.equal((await c.login('admin', adminPassword)).status, 401);
      } finally {
        await other.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
