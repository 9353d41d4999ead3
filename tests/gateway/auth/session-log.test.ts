/**
 * The gateway's sessions on disk (gateway/auth/session-log.ts, issue 15 item 11): a login appends
 * one line instead of rewriting every session, the log is compacted as it grows, a crash mid-write
 * (a torn last line) loses nothing before it and corrupts nothing after it, an ended session never
 * comes back after a restart, and the sessions file of earlier versions is taken over.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openFileAuthStore } from '../../../gateway/auth/file-store.ts';
import type { SessionRecord } from '../../../server-shared/web-auth/types.ts';
import { makeUser } from '../../server-shared/web-auth/store-conformance.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const session = (n: number, username = 'ops'): SessionRecord => ({
  id_sha256: randomBytes(32).toString('hex'),
  username,
  csrf_token: randomBytes(32).toString('base64url'),
  address: '127.0.0.1',
  created_at: new Date(T0 + n * 1000),
  last_seen_at: new Date(T0 + n * 1000),
});

describe('gateway sessions log', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'siem-sessions-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const log = () => path.join(dir, 'sessions.log');

  it('appends one line per login: the sessions already on disk are not rewritten', async () => {
    const store = await openFileAuthStore({ dir });
    await store.createUser(makeUser('ops'));
    for (let i = 0; i < 30; i++) await store.createSession(session(i));
    const before = readFileSync(log(), 'utf8');
    const inode = statSync(log()).ino;
    const next = session(31);
    await store.createSession(next);
    const after = readFileSync(log(), 'utf8');
    assert.equal(statSync(log()).ino, inode, 'the same file, not a rewritten copy');
    assert.ok(after.startsWith(before), 'what was there stays byte for byte');
    const added = after.slice(before.length);
    assert.equal(added.split('\n').filter(Boolean).length, 1, 'one line for one login');
    assert.ok(added.includes(next.id_sha256));
    assert.equal(statSync(log()).mode & 0o777, 0o600);
  });

  it('survives a torn last line: earlier sessions kept, later appends readable', async () => {
    const store = await openFileAuthStore({ dir });
    const kept = [session(1), session(2)];
    for (const s of kept) await store.createSession(s);
    await store.touchSession(kept[0]!.id_sha256, new Date(T0 + 60_000));
    // A crash in the middle of appending the next line.
    appendFileSync(log(), '{"p":{"id_sha256":"abc","usern');
    const reopened = await openFileAuthStore({ dir });
    assert.deepEqual((await reopened.getSession(kept[0]!.id_sha256))?.last_seen_at, new Date(T0 + 60_000));
    assert.ok(await reopened.getSession(kept[1]!.id_sha256));
    const later = session(3);
    await reopened.createSession(later);
    const third = await openFileAuthStore({ dir });
    for (const s of [...kept, later])
      assert.ok(await third.getSession(s.id_sha256), 'readable after the tear');
    for (const line of readFileSync(log(), 'utf8').split('\n').filter(Boolean)) JSON.parse(line);
  });

  it('compacts as it grows, and never brings an ended session back', async () => {
    const store = await openFileAuthStore({ dir, sessionLogCompactLines: 50 });
    const live = session(1);
    const ended = session(2);
    await store.createSession(live);
    await store.createSession(ended);
    await store.deleteSession(ended.id_sha256);
    for (let i = 1; i <= 500; i++) await store.touchSession(live.id_sha256, new Date(T0 + i * 15_000));
    const lines = readFileSync(log(), 'utf8').split('\n').filter(Boolean).length;
    assert.ok(lines <= 52, `${lines} lines after 500 touches of one session`);
    const reopened = await openFileAuthStore({ dir });
    assert.deepEqual((await reopened.getSession(live.id_sha256))?.last_seen_at, new Date(T0 + 500 * 15_000));
    assert.equal(await reopened.getSession(ended.id_sha256), undefined);
    assert.ok(!existsSync(`${log()}.tmp`), 'no temp file left');
  });

  it("takes over an earlier version's sessions.json", async () => {
    const old = [session(1), session(2)];
    writeFileSync(path.join(dir, 'sessions.json'), JSON.stringify(old), { mode: 0o600 });
    const store = await openFileAuthStore({ dir });
    for (const s of old) assert.deepEqual(await store.getSession(s.id_sha256), s);
    assert.ok(!existsSync(path.join(dir, 'sessions.json')), 'the old file is gone');
    const reopened = await openFileAuthStore({ dir });
    for (const s of old) assert.deepEqual(await reopened.getSession(s.id_sha256), s);
  });
});
