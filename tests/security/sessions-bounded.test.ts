/**
 * Security review, issue 15 item 11, on both servers: sessions were never deleted from storage
 * once expired, and one user could pile up any number of them (a script logging in at every run).
 * Now a login ends the user's oldest sessions beyond `max_sessions_per_user`, expired sessions are
 * deleted at every login and every `session_prune_interval_secs`, and storage holds only live ones.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../support/env.ts';
import { TARGETS } from './servers.ts';

const IDLE_SECS = 3600;

for (const [name, start] of TARGETS) {
  describe(`sessions are bounded (${name})`, () => {
    it("keeps a user's newest sessions and deletes expired ones at login", async () => {
      const s = await start({ auth: { max_sessions_per_user: 3 } });
      try {
        const logins = [];
        for (let i = 0; i < 5; i++) logins.push(await s.api.session('admin', s.adminPassword));
        const alive = [];
        for (const l of logins) alive.push((await l.call('GET', '/api/auth/me')).status);
        assert.deepEqual(alive, [401, 401, 200, 200, 200], 'the two oldest ended');
        assert.equal(await s.storedSessions(), 3);

        s.advance((IDLE_SECS + 1) * 1000);
        await s.api.session('admin', s.adminPassword);
        assert.equal(await s.storedSessions(), 1, 'the expired three are gone from storage');
      } finally {
        await s.stop();
      }
    });

    it('deletes expired sessions on a timer', async () => {
      const s = await start({ auth: { session_prune_interval_secs: 1 } });
      try {
        for (let i = 0; i < 3; i++) await s.api.session('admin', s.adminPassword);
        assert.equal(await s.storedSessions(), 3);
        s.advance((IDLE_SECS + 1) * 1000);
        await waitFor(async () => ((await s.storedSessions()) === 0 ? true : undefined), {
          what: 'the expired sessions to be pruned',
          timeoutMs: 5000,
        });
      } finally {
        await s.stop();
      }
    });
  });
}
