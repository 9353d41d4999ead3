/**
 * Central's config: the example is valid, DATABASE_URL switches storage to PostgreSQL, and
 * `siem-central validate` reports a bad key by its path, without a stack trace, with exit 2.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadCentralConfig } from '../../central/config/load.ts';
import { REPO_ROOT } from '../support/env.ts';

const run = promisify(execFile);
const EXAMPLE = path.join(REPO_ROOT, 'central', 'config', 'example.yaml');
const BIN = path.join(REPO_ROOT, 'bin', 'siem-central.js');

describe('central config', () => {
  it('accepts the example config', () => {
    const result = loadCentralConfig(EXAMPLE, {});
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    assert.equal(result.config.storage.type, 'pglite');
    assert.equal(result.config.enrollment.default_ttl_secs, 3600);
  });

  it('switches to PostgreSQL when DATABASE_URL is set', () => {
    const result = loadCentralConfig(EXAMPLE, { DATABASE_URL: 'postgres://u@db.example/siem' });
    assert.ok(result.ok);
    assert.deepEqual(result.config.storage, {
      type: 'postgres',
      url: 'postgres://u@db.example/siem',
      pool_max: 10,
      lock_wait_secs: 5,
      stalled_session_secs: 30,
    });
  });

  it('rejects a plain token where a sha256 is expected', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-central-cfg-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(
      file,
      'storage: { type: pglite }\napi: { tokens: [ { name: soc, token_sha256: hunter2 } ] }\n',
    );
    const result = loadCentralConfig(file, {});
    assert.equal(result.ok, false);
    assert.match(
      result.ok ? '' : result.errors.join(),
      /api\.tokens\.0\.token_sha256: expected 64 lower-case hex/,
    );
  });

  it('siem-central validate exits 0 on the example and 2 naming the bad key', async () => {
    assert.match((await run(process.execPath, [BIN, 'validate', '--config', EXAMPLE])).stdout, /valid/);
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-central-cfg-'));
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'storage: { type: pglite, data_dir: /tmp/x, colour: blue }\n');
    const failed = await run(process.execPath, [BIN, 'validate', '--config', bad]).then(
      () => assert.fail('expected exit status 2'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, /unknown key storage\.colour/);
    assert.doesNotMatch(failed.stderr, /\n\s+at /);
  });

  it('siem-central new-token prints a token and its sha256', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'new-token']);
    assert.match(stdout, /token:\s+\S{43}\ntoken_sha256: [0-9a-f]{64}\n/);
  });
});
