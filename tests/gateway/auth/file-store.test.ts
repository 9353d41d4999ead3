/**
 * The gateway's file-backed `AuthStore` through the shared conformance suite (reopened from disk
 * for the persistence case), then what only files can get wrong: mode 0600, no temp file left
 * behind, and the audit log bounded to two files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openFileAuthStore } from '../../../gateway/auth/file-store.ts';
import { makeUser, runAuthStoreConformance } from '../../server-shared/web-auth/store-conformance.ts';

runAuthStoreConformance('gateway files', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-auth-'));
  return {
    store: await openFileAuthStore({ dir }),
    reopen: () => openFileAuthStore({ dir }),
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('gateway auth files', () => {
  it('are mode 0600 in a 0700 directory, written without leftovers', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'siem-auth-'));
    try {
      const dir = path.join(root, 'auth');
      const store = await openFileAuthStore({ dir });
      await store.createUser(makeUser('ops1'));
      await store.createSession({
        id_sha256: 'a'.repeat(64),
        username: 'ops1',
        csrf_token: 'x',
        address: null,
        created_at: new Date(),
        last_seen_at: new Date(),
      });
      await store.appendAudit({
        ts: new Date(),
        actor: 'ops1',
        action: 'a',
        target: null,
        address: null,
        outcome: 'ok',
      });
      await store.listAudit({ limit: 1 });
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      const files = readdirSync(dir).sort();
      assert.deepEqual(files, ['audit.ndjson', 'sessions.log', 'users.json']);
      for (const f of files) assert.equal(statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('bounds the audit log to two files and keeps the newest entries', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-auth-'));
    try {
      const store = await openFileAuthStore({ dir, maxAuditBytes: 2000 });
      for (let i = 0; i < 200; i++) {
        await store.appendAudit({
          ts: new Date(),
          actor: 'a',
          action: 'x',
          target: `n${i}`,
          address: null,
          outcome: 'ok',
        });
      }
      const total = readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
      assert.ok(total <= 2 * 2000 + 200, `audit files hold ${total} bytes`);
      const newest = await store.listAudit({ limit: 1000 });
      assert.equal(newest[0]!.target, 'n199');
      assert.ok(newest.length < 200 && newest.length > 10, `${newest.length} entries kept`);
      assert.deepEqual(
        newest.map((e) => e.id),
        [...newest.map((e) => e.id)].sort((a, b) => b - a),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
