/**
 * Password hashes of MQTT users: the format the config accepts, verification of the right and a
 * wrong password, parameters that could exhaust a gateway refused, and the hash-password CLI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { checkHash, hashPassword, verifyPassword } from '../../../../gateway/sources/mqtt-broker/password.ts';
import { REPO_ROOT } from '../../../support/env.ts';

it('hashes with scrypt and a salt, verifies in constant time', async () => {
  const a = await hashPassword('s3cret', { N: 1024, r: 8, p: 1 });
  const b = await hashPassword('s3cret', { N: 1024, r: 8, p: 1 });
  assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.notEqual(a, b, 'a fresh salt each time');
  assert.equal(await verifyPassword('s3cret', a), true);
  assert.equal(await verifyPassword('s3cre', a), false);
  assert.equal(await verifyPassword('s3cret', 'plain-text'), false);
  assert.equal(checkHash(a), null);
});

it('refuses hashes that are not scrypt or whose cost could exhaust the gateway', () => {
  assert.match(checkHash('$2y$10$abcdefghijklmnopqrstuv') ?? '', /expected scrypt/);
  assert.match(checkHash('scrypt$4194304$8$1$AAAA$AAAA') ?? '', /power of two/);
  assert.match(checkHash('scrypt$16384$64$1$AAAA$AAAA') ?? '', /r must be/);
});

it('hash-password.ts reads the password from stdin and prints a hash the config accepts', async () => {
  const cli = path.join(REPO_ROOT, 'gateway', 'sources', 'mqtt-broker', 'hash-password.ts');
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, ['--import', 'tsx', cli], { cwd: REPO_ROOT }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
    child.stdin?.end('pump-7 password');
  });
  const hash = out.trim();
  assert.equal(checkHash(hash), null);
  assert.equal(await verifyPassword('pump-7 password', hash), true);
});
