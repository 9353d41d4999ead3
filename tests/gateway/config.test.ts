/**
 * The gateway's config: the example file is valid; unknown or wrong keys are errors that name
 * their path; `siem-gateway validate` prints them without a stack trace and exits 2.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadGatewayConfig } from '../../gateway/config/load.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { parseYamlConfig } from '../../server-shared/config/yaml-config.ts';
import { REPO_ROOT } from '../support/env.ts';

const run = promisify(execFile);
const EXAMPLE = path.join(REPO_ROOT, 'gateway', 'config', 'example.yaml');
const MINIMAL = `
gateway: { id: gw1, data_dir: /tmp/x }
sources: {}
central: { endpoint: ws://127.0.0.1:1/link }
`;

function errorsOf(text: string): string[] {
  const result = parseYamlConfig(text, gatewayConfigSchema);
  return result.ok ? [] : result.errors;
}

describe('gateway config', () => {
  it('accepts the example config and fills defaults', () => {
    const result = loadGatewayConfig(EXAMPLE, {});
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    const udp = result.config.sources.syslog_udp;
    assert.equal(udp?.type === 'syslog' && udp.max_message_bytes, 65_536);
    assert.equal(result.config.http.listen, '127.0.0.1:9100');
  });

  it('names the path of an unknown key', () => {
    assert.deepEqual(errorsOf(`${MINIMAL}\nqueue: { max_batch_event: 10 }`), [
      '<config>: unknown key queue.max_batch_event',
    ]);
  });

  it('names the path of a wrong value', () => {
    const errors = errorsOf(
      MINIMAL.replace('sources: {}', 'sources: { s1: { type: syslog, mode: udp, listen: nope } }'),
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /sources\.s1\.listen: expected host:port/);
  });

  it('reports a missing required key', () => {
    assert.deepEqual(errorsOf(MINIMAL.replace('central: { endpoint: ws://127.0.0.1:1/link }', '')), [
      '<config>: central: required key is missing',
    ]);
  });

  it('requires a tls block for mode tls', () => {
    const errors = errorsOf(
      MINIMAL.replace('sources: {}', 'sources: { s1: { type: syslog, mode: tls, listen: 0.0.0.0:6514 } }'),
    );
    assert.match(errors.join(), /sources\.s1\.tls: mode tls needs a tls block/);
  });

  it('lets the environment override the file', () => {
    const result = loadGatewayConfig(EXAMPLE, {
      SIEM_GATEWAY_ID: 'from-env',
      SIEM_CENTRAL_ENDPOINT: 'ws://10.0.0.1:1/link',
    });
    assert.ok(result.ok);
    assert.equal(result.config.gateway.id, 'from-env');
    assert.equal(result.config.central.endpoint, 'ws://10.0.0.1:1/link');
  });

  it('siem-gateway validate: exit 0 on the example, exit 2 with the key named and no stack trace', async () => {
    const bin = path.join(REPO_ROOT, 'bin', 'siem-gateway.js');
    const ok = await run(process.execPath, [bin, 'validate', '--config', EXAMPLE], {
      env: { ...process.env, SIEM_GATEWAY_TOKEN: 'x'.repeat(32) },
    });
    assert.match(ok.stdout, /valid/);
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-cfg-'));
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, `${MINIMAL}\nhttp: { listen: 127.0.0.1:9100, colour: blue }\n`);
    const failed = await run(process.execPath, [bin, 'validate', '--config', bad]).then(
      () => assert.fail('expected exit status 2'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, /unknown key http\.colour/);
    assert.doesNotMatch(failed.stderr, /\n\s+at /);
  });
});
