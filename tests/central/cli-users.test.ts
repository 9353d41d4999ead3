/**
 * `siem-central user`: an operator on the host can add a user and reset a locked-out admin's
 * password (and TOTP) on the store directly. The password comes from a 0600 file or is printed
 * once; the user can then log in to a running central with it, and a reset ends old sessions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../central/cli.ts';
import { requirePostgres } from '../support/postgres.ts';
import { startTestCentral } from '../support/stack.ts';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(chunk) > 0) as typeof process.stderr.write;
  try {
    return { code: await main(args), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

async function login(base: string, username: string, password: string) {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

test('siem-central user add, list and passwd on the store of a running central', async (t) => {
  const db = await requirePostgres(t);
  if (!db) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-cli-users-'));
  const config = path.join(dir, 'central.yaml');
  writeFileSync(config, `storage: { type: postgres, url: "${db.url}" }\nlog: { level: silent }\n`);
  const passwordFile = path.join(dir, 'pw');
  writeFileSync(passwordFile, 'correct horse battery\n', { mode: 0o600 });
  const c = await startTestCentral({ type: 'postgres', url: db.url });
  try {
    const added = await cli([
      'user',
      'add',
      'operator',
      '--role',
      'analyst',
      '--password-file',
      passwordFile,
      '--config',
      config,
    ]);
    assert.equal(added.code, 0, added.err);
    assert.match(added.out, /created operator \(analyst\)/);
    assert.doesNotMatch(added.out, /correct horse/, 'a password from a file is never echoed');

    const base = c.central.url();
    const first = await login(base, 'operator', 'correct horse battery');
    assert.equal(first.status, 200);

    const listed = await cli(['user', 'list', '--config', config]);
    assert.equal(listed.code, 0);
    assert.match(listed.out, /^operator\tanalyst\t-$/m);

    // A reset without a file prints a generated password once and ends the old session.
    const reset = await cli(['user', 'passwd', 'operator', '--reset-totp', '--config', config]);
    assert.equal(reset.code, 0, reset.err);
    const password = /password: (\S+)\s+\(shown once\)/.exec(reset.out)?.[1];
    assert.ok(password && password.length >= 10, reset.out);
    const me = await fetch(`${base}/api/auth/me`, { headers: { cookie: first.cookie! } });
    assert.equal(me.status, 401, 'the session opened before the reset is over');
    assert.equal((await login(base, 'operator', 'correct horse battery')).status, 401);
    assert.equal((await login(base, 'operator', password)).status, 200);

    // Refusals: an existing user, an unknown role, a password file others can read, no user.
    assert.equal((await cli(['user', 'add', 'operator', '--config', config])).code, 2);
    assert.equal((await cli(['user', 'add', 'x', '--role', 'root', '--config', config])).code, 2);
    const loose = path.join(dir, 'loose');
    writeFileSync(loose, 'another long password', { mode: 0o644 });
    const refused = await cli(['user', 'add', 'y', '--password-file', loose, '--config', config]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /chmod 600/);
    assert.equal((await cli(['user', 'passwd', 'nobody', '--config', config])).code, 2);

    // Each change is in the audit log, by `cli`, without the password.
    const { rows } = await c.central.store.sql.query<{ action: string; actor: string; detail: unknown }>(
      `SELECT action, actor, detail FROM audit_log WHERE actor = 'cli' ORDER BY id`,
    );
    assert.deepEqual(
      rows.map((r) => r.action),
      ['user.create', 'user.password_reset'],
    );
    assert.doesNotMatch(JSON.stringify(rows), /correct horse|password: /);
  } finally {
    await c.central.stop();
    await db.drop();
  }
});
