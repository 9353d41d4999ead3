/**
 * Response playbooks can disable users and cut devices off, so nobody may change them who should
 * not (issue 21 ask 4), on a real central (PGlite, HTTP): every playbook change route refuses an
 * anonymous caller (401) and a session without its CSRF token (403); an analyst's session and an
 * admin's token scoped to `read` and `alerts` cannot create, replace, delete or push playbooks
 * (403), while the admin's session can; a viewer cannot approve, reject or undo; a playbook
 * cannot carry a URL of its own (a webhook names a configured sink), and a refused change leaves
 * nothing behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCentralTarget, type TargetServer } from './servers.ts';

const PASSWORD = 'a long enough password';
const PLAYBOOK = {
  id: 'probe',
  name: 'Probe',
  match: {},
  actions: [{ type: 'disable_user', username: 'admin' }],
};
const CHANGES: Array<[string, string, unknown]> = [
  ['POST', '/api/playbooks', PLAYBOOK],
  ['PUT', '/api/playbooks/probe', PLAYBOOK],
  ['DELETE', '/api/playbooks/probe', undefined],
  ['POST', '/api/playbook-push', {}],
];
const RESPONSES: Array<[string, string, unknown]> = [
  ['POST', '/api/playbook-runs/1/approve', {}],
  ['POST', '/api/playbook-runs/1/reject', {}],
  ['POST', '/api/playbook-actions/1/undo', {}],
];

describe('playbook access control (central)', () => {
  let s: TargetServer;
  let admin: Awaited<ReturnType<TargetServer['api']['session']>>;
  before(async () => {
    s = await startCentralTarget();
    admin = await s.api.session('admin', s.adminPassword);
    for (const [username, role] of [
      ['ana', 'analyst'],
      ['vic', 'viewer'],
    ] as const) {
      const created = await admin.call('POST', '/api/users', {
        body: { username, password: PASSWORD, role },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
  });
  after(async () => {
    await s?.stop();
  });

  it('refuses anonymous callers and sessions without their CSRF token', async () => {
    for (const [method, path, body] of [...CHANGES, ...RESPONSES]) {
      assert.equal((await s.api.call(method, path, { body })).status, 401, `${method} ${path} anonymous`);
      const noCsrf = await s.api.call(method, path, { cookie: admin.cookie, body });
      assert.equal(noCsrf.status, 403, `${method} ${path} without CSRF`);
    }
  });

  it('refuses analysts and narrowly scoped admin tokens, and lets the admin change them', async () => {
    const ana = await s.api.session('ana', PASSWORD);
    const scoped = await admin.call('POST', '/api/auth/tokens', {
      body: { name: 'soar', scopes: ['read', 'alerts'] },
    });
    assert.equal(scoped.status, 201, JSON.stringify(scoped.body));
    const token = scoped.body.token as string;
    for (const [method, path, body] of CHANGES) {
      const byAnalyst = await ana.call(method, path, { body });
      assert.equal(byAnalyst.status, 403, `${method} ${path} by an analyst`);
      assert.match(String(byAnalyst.body.error), /permission playbooks/);
      assert.equal(
        (await s.api.call(method, path, { token, body })).status,
        403,
        `${method} ${path} by a scoped token`,
      );
    }
    assert.deepEqual((await ana.call('GET', '/api/playbooks')).body.playbooks, [], 'nothing was created');
    const created = await admin.call('POST', '/api/playbooks', { body: PLAYBOOK });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await admin.call('DELETE', '/api/playbooks/probe')).status, 204);
  });

  it('refuses viewers the responses, and URLs of the API caller’s choosing', async () => {
    const vic = await s.api.session('vic', PASSWORD);
    for (const [method, path, body] of RESPONSES)
      assert.equal((await vic.call(method, path, { body })).status, 403, `${method} ${path} by a viewer`);
    const ana = await s.api.session('ana', PASSWORD);
    // An analyst passes the permission check; there is no such run.
    assert.equal((await ana.call('POST', '/api/playbook-runs/1/approve', { body: {} })).status, 404);
    const aimed = await admin.call('POST', '/api/playbooks', {
      body: { ...PLAYBOOK, actions: [{ type: 'webhook', sink: 'soar', url: 'http://169.254.169.254/' }] },
    });
    assert.equal(aimed.status, 400);
    const unknownSink = await admin.call('POST', '/api/playbooks', {
      body: { ...PLAYBOOK, actions: [{ type: 'webhook', sink: 'soar' }] },
    });
    assert.equal(unknownSink.status, 400);
    assert.deepEqual((await admin.call('GET', '/api/playbooks')).body.playbooks, []);
  });
});
