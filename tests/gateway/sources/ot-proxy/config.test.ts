/**
 * The ot_proxy source's config in the gateway's YAML: a valid block gets its defaults; an unknown
 * key, a protocol it does not speak, an upstream that is not host:port and an empty list are
 * errors that name their path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayConfigSchema } from '../../../../gateway/config/schema.ts';
import { parseYamlConfig } from '../../../../server-shared/config/yaml-config.ts';

const config = (ot: string) => `
gateway: { id: gw1, data_dir: /tmp/x }
central: { endpoint: ws://127.0.0.1:1/link }
sources:
  ot:
${ot}
`;
const errorsOf = (ot: string) => {
  const r = parseYamlConfig(config(ot), gatewayConfigSchema);
  return r.ok ? [] : r.errors;
};

test('a valid ot_proxy gets its defaults', () => {
  const r = parseYamlConfig(
    config(`    type: ot_proxy
    proxies:
      - { protocol: dnp3, listen: 0.0.0.0:20000, upstream: 10.1.2.10:20000, device_name: rtu-7 }
      - { protocol: s7comm, listen: "127.0.0.1:0", upstream: plc.local:102 }`),
    gatewayConfigSchema,
  );
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  const ot = r.config.sources.ot;
  assert.ok(ot?.type === 'ot_proxy');
  assert.deepEqual(
    [ot.max_connections, ot.idle_timeout_secs, ot.connect_timeout_secs, ot.max_buffered_bytes],
    [64, 600, 5, 65_536],
  );
});

test('wrong keys and values name their path', () => {
  const one = (extra: string, protocol = 'dnp3') => `    type: ot_proxy
    proxies:
      - { protocol: ${protocol}, listen: "127.0.0.1:0", upstream: "10.0.0.1:20000"${extra} }`;
  assert.deepEqual(errorsOf(one(', policy: strict')), ['<config>: unknown key sources.ot.proxies.0.policy']);
  assert.match(errorsOf(one('', 'modbus')).join('\n'), /sources\.ot\.proxies\.0\.protocol/);
  assert.match(
    errorsOf(`    type: ot_proxy
    proxies: [{ protocol: enip, listen: "127.0.0.1:0", upstream: "10.0.0.1" }]`).join('\n'),
    /sources\.ot\.proxies\.0\.upstream.*host:port/,
  );
  assert.match(errorsOf(`    type: ot_proxy\n    proxies: []`).join('\n'), /sources\.ot\.proxies/);
});
