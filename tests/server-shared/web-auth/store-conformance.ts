/**
 * The one conformance suite every `AuthStore` passes (server-shared/web-auth/types.ts): central's SQL
 * store on PGlite and on PostgreSQL, and the gateway's file store. What the access control relies
 * on: users round-trip and are unique, a TOTP step is accepted once even when two requests race,
 * deleting a user takes their sessions and tokens, tokens are found by digest only, the audit
 * log pages newest first with its filters, and login lockouts outlive a restart.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { ApiTokenRecord, AuthStore, UserRecord } from '../../../server-shared/web-auth/types.ts';
import { skipUnmet } from '../../support/env.ts';

export interface StoreHandle {
  store: AuthStore;
  /** The same data opened again (a restart); absent when the store cannot be reopened. */
  reopen?: () => Promise<AuthStore>;
  close(): Promise<void>;
}

const T0 = new Date('2025-03-01T10:00:00.000Z');
const at = (secs: number) => new Date(T0.getTime() + secs * 1000);
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export function makeUser(username: string, extra: Partial<UserRecord> = {}): UserRecord {
  return {
    username,
    role: 'viewer',
    password_hash: 'scrypt$32768$8$1$c2FsdA==$aGFzaA==',
    totp_secret: null,
    totp_enabled: false,
    totp_last_step: 0,
    require_totp: false,
    disabled: false,
    created_at: T0,
    updated_at: T0,
    ...extra,
  };
}

function makeToken(username: string, extra: Partial<ApiTokenRecord> = {}): ApiTokenRecord {
  return {
    id: randomBytes(8).toString('hex'),
    token_sha256: randomBytes(32).toString('hex'),
    name: 'ci',
    username,
    scopes: ['read'],
    created_at: T0,
    expires_at: null,
    last_used_at: null,
    ...extra,
  };
}

export function runAuthStoreConformance(name: string, open: () => Promise<StoreHandle | undefined>) {
  describe(`AuthStore conformance (${name})`, () => {
    let handle: StoreHandle | undefined;
    let store: AuthStore;
    before(async () => {
      handle = await open();
      if (handle) store = handle.store;
    });
    after(() => handle?.close());
    const skip = (t: TestContext) => {
      if (!handle) skipUnmet(t);
      return !handle;
    };

    it('creates, reads, lists, updates and deletes users; usernames are unique', async (t) => {
      if (skip(t)) return;
      const name1 = unique('ann');
      const before = await store.countUsers();
      assert.equal(await store.createUser(makeUser(name1, { role: 'analyst' })), true);
      assert.equal(await store.createUser(makeUser(name1, { role: 'admin' })), false, 'duplicate refused');
      assert.equal(await store.countUsers(), before + 1);
      const got = await store.getUser(name1);
      assert.deepEqual(got, makeUser(name1, { role: 'analyst' }));
      assert.equal(await store.getUser(unique('nobody')), undefined);
      assert.ok((await store.listUsers()).some((u) => u.username === name1));
      const updated = await store.updateUser(name1, {
        role: 'admin',
        require_totp: true,
        totp_secret: 'JBSWY3DPEHPK3PXP',
        updated_at: at(5),
      });
      assert.equal(updated?.role, 'admin');
      assert.equal(updated?.require_totp, true);
      assert.equal(updated?.password_hash, got!.password_hash, 'untouched fields stay');
      assert.deepEqual(updated?.updated_at, at(5));
      assert.deepEqual(await store.getUser(name1), updated);
      assert.equal(await store.updateUser(unique('nobody'), { role: 'admin', updated_at: at(1) }), undefined);
      assert.equal(await store.deleteUser(name1), true);
      assert.equal(await store.deleteUser(name1), false);
      assert.equal(await store.getUser(name1), undefined);
    });

    it('accepts each TOTP step once, also under concurrent use', async (t) => {
      if (skip(t)) return;
      const u = unique('totp');
      await store.createUser(makeUser(u));
      assert.equal(await store.useTotpStep(u, 1000), true);
      assert.equal(await store.useTotpStep(u, 1000), false, 'the same step again is a replay');
      assert.equal(await store.useTotpStep(u, 999), false, 'an earlier step is refused');
      const race = await Promise.all([1001, 1001, 1001, 1001].map((s) => store.useTotpStep(u, s)));
      assert.equal(race.filter(Boolean).length, 1, 'exactly one of concurrent uses wins');
      assert.equal((await store.getUser(u))?.totp_last_step, 1001);
      assert.equal(await store.useTotpStep(unique('nobody'), 5), false);
    });

    it('stores, touches and deletes sessions; deleting a user ends their sessions and tokens', async (t) => {
      if (skip(t)) return;
      const u = unique('sess');
      await store.createUser(makeUser(u));
      const s = (id: string) => ({
        id_sha256: id,
        username: u,
        csrf_token: 'csrf',
        address: '127.0.0.1',
        created_at: at(0),
        last_seen_at: at(0),
      });
      const [a, b, c] = [1, 2, 3].map(() => randomBytes(32).toString('hex')) as [string, string, string];
      for (const id of [a, b, c]) await store.createSession(s(id));
      assert.deepEqual(await store.getSession(a), s(a));
      await store.touchSession(a, at(60));
      assert.deepEqual((await store.getSession(a))?.last_seen_at, at(60));
      await store.deleteSession(b);
      assert.equal(await store.getSession(b), undefined);
      assert.equal(await store.deleteUserSessions(u, a), 1, 'all but the kept one');
      assert.equal(await store.getSession(c), undefined);
      assert.ok(await store.getSession(a));
      const tok = makeToken(u);
      await store.createToken(tok);
      assert.equal(await store.deleteUser(u), true);
      assert.equal(await store.getSession(a), undefined, 'sessions go with the user');
      assert.equal(await store.findToken(tok.token_sha256), undefined, 'tokens go with the user');
    });

    it('deletes expired sessions, and trims one user to their newest sessions', async (t) => {
      if (skip(t)) return;
      const [u, v] = [unique('prune'), unique('trim')];
      for (const name of [u, v]) await store.createUser(makeUser(name));
      const s = (username: string, created: number, seen: number) => ({
        id_sha256: randomBytes(32).toString('hex'),
        username,
        csrf_token: 'csrf',
        address: null,
        created_at: at(created),
        last_seen_at: at(seen),
      });
      const idle = s(u, 5000, 5100);
      const old = s(u, 10, 9000);
      const fresh = s(u, 8000, 9000);
      for (const x of [idle, old, fresh]) await store.createSession(x);
      // Idle since before 6000, or created before 100: both expired.
      assert.ok((await store.deleteExpiredSessions(at(6000), at(100))) >= 2);
      assert.equal(await store.getSession(idle.id_sha256), undefined, 'idle too long');
      assert.equal(await store.getSession(old.id_sha256), undefined, 'past its lifetime');
      assert.deepEqual(await store.getSession(fresh.id_sha256), fresh);

      const mine = [1, 2, 3, 4].map((n) => s(v, 8000 + n, 9000));
      for (const x of mine) await store.createSession(x);
      assert.equal(await store.trimUserSessions(v, 2), 2);
      assert.equal(await store.getSession(mine[0]!.id_sha256), undefined);
      assert.equal(await store.getSession(mine[1]!.id_sha256), undefined);
      assert.ok(await store.getSession(mine[2]!.id_sha256), 'the newest are kept');
      assert.ok(await store.getSession(mine[3]!.id_sha256));
      assert.ok(await store.getSession(fresh.id_sha256), "another user's are untouched");
      assert.equal(await store.trimUserSessions(v, 2), 0);
      for (const name of [u, v]) await store.deleteUser(name);
    });

    it('finds tokens by digest, lists them per owner, deletes only the owner’s', async (t) => {
      if (skip(t)) return;
      const [u1, u2] = [unique('tok'), unique('tok')] as [string, string];
      await store.createUser(makeUser(u1));
      await store.createUser(makeUser(u2));
      const t1 = makeToken(u1, { scopes: ['read', 'alerts'], expires_at: at(3600) });
      const t2 = makeToken(u2, { created_at: at(1) });
      await store.createToken(t1);
      await store.createToken(t2);
      assert.deepEqual(await store.findToken(t1.token_sha256), t1);
      assert.equal(await store.findToken(randomBytes(32).toString('hex')), undefined);
      assert.deepEqual(await store.listTokens(u1), [t1]);
      const all = await store.listTokens();
      assert.ok(all.some((x) => x.id === t1.id) && all.some((x) => x.id === t2.id));
      await store.touchToken(t1.id, at(10));
      assert.deepEqual((await store.findToken(t1.token_sha256))?.last_used_at, at(10));
      assert.equal(await store.deleteToken(t1.id, u2), false, 'not the owner');
      assert.equal(await store.deleteToken(t1.id, u1), true);
      assert.equal(await store.deleteToken(t2.id), true, 'admin: any token');
      assert.deepEqual(await store.listTokens(u1), []);
    });

    it('appends the audit log and pages it newest first with actor and action filters', async (t) => {
      if (skip(t)) return;
      const actor = unique('auditor');
      for (let i = 0; i < 5; i++) {
        await store.appendAudit({
          ts: at(i),
          actor,
          action: i % 2 === 0 ? 'auth.login' : 'user.update',
          target: `t${i}`,
          address: '10.0.0.1',
          outcome: 'ok',
          detail: i === 4 ? { changed: ['role'] } : null,
        });
      }
      const page1 = await store.listAudit({ limit: 3, actor });
      assert.deepEqual(
        page1.map((e) => e.target),
        ['t4', 't3', 't2'],
      );
      assert.deepEqual(page1[0]!.detail, { changed: ['role'] });
      assert.deepEqual(page1[0]!.ts, at(4));
      assert.ok(page1[0]!.id > page1[1]!.id);
      const page2 = await store.listAudit({ limit: 3, actor, before: page1.at(-1)!.id });
      assert.deepEqual(
        page2.map((e) => e.target),
        ['t1', 't0'],
      );
      const logins = await store.listAudit({ limit: 10, actor, action: 'auth.login' });
      assert.deepEqual(
        logins.map((e) => e.target),
        ['t4', 't2', 't0'],
      );
    });

    it('keeps login lockouts, the latest end per key, and forgets ended ones', async (t) => {
      if (skip(t)) return;
      const user = `u:${unique('lock')}`;
      const from = `a:${unique('10.9.9.9')}`;
      assert.equal(await store.lockedUntil([user, from], at(0)), undefined);
      await store.lock(user, at(900), at(0));
      assert.deepEqual(await store.lockedUntil([user, from], at(1)), at(900));
      await store.lock(from, at(1200), at(300));
      assert.deepEqual(await store.lockedUntil([user, from], at(301)), at(1200), 'the latest of the keys');
      await store.lock(user, at(600), at(302));
      assert.deepEqual(
        await store.lockedUntil([user], at(303)),
        at(900),
        'an earlier end does not shorten it',
      );
      assert.equal(await store.lockedUntil([user], at(900)), undefined, 'ended');
      assert.equal(await store.lockedUntil([`u:${unique('other')}`], at(1)), undefined);
    });

    it('keeps everything across a reopen', async (t) => {
      if (skip(t)) return;
      if (!handle!.reopen) return t.skip('not reopenable');
      const u = unique('persist');
      await store.createUser(makeUser(u, { role: 'admin' }));
      await store.useTotpStep(u, 77);
      const tok = makeToken(u);
      await store.createToken(tok);
      await store.appendAudit({
        ts: at(9),
        actor: u,
        action: 'auth.login',
        target: u,
        address: null,
        outcome: 'ok',
      });
      await store.lock(`u:${u}`, at(900), at(0));
      const live = randomBytes(32).toString('hex');
      const ended = randomBytes(32).toString('hex');
      for (const id of [live, ended]) {
        await store.createSession({
          id_sha256: id,
          username: u,
          csrf_token: 'csrf',
          address: '10.0.0.1',
          created_at: at(0),
          last_seen_at: at(0),
        });
      }
      await store.touchSession(live, at(30));
      await store.deleteSession(ended);
      const again = await handle!.reopen();
      assert.deepEqual((await again.getSession(live))?.last_seen_at, at(30), 'a session and its last use');
      assert.equal(await again.getSession(ended), undefined, 'an ended session stays ended');
      assert.deepEqual(await again.getUser(u), { ...makeUser(u, { role: 'admin' }), totp_last_step: 77 });
      assert.deepEqual(await again.lockedUntil([`u:${u}`], at(1)), at(900), 'a lockout survives a restart');
      assert.deepEqual(await again.findToken(tok.token_sha256), tok);
      const [entry] = await again.listAudit({ limit: 1, actor: u });
      assert.equal(entry?.action, 'auth.login');
      await again.appendAudit({
        ts: at(10),
        actor: u,
        action: 'x',
        target: null,
        address: null,
        outcome: 'ok',
      });
      const [newer] = await again.listAudit({ limit: 1, actor: u });
      assert.ok(newer!.id > entry!.id, 'ids keep increasing after a reopen');
      store = again;
    });
  });
}
