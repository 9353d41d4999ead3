/**
 * Sigma placeholders from the gateway's configuration (issue 20 ask 4, the gap issue 19 noted):
 * rules/ics/s7comm-recon.yml's SZL enumeration leaves out the site's engineering stations, listed
 * under `detection.placeholders.engineering_stations`. The correlation fires for an unknown host
 * reading three SZL lists and not for a configured engineering station doing the same; with no
 * placeholder configured it fires for both; the config key is validated.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { loadDetection } from '../../gateway/detection/index.ts';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import { REPO_ROOT } from '../support/env.ts';

const T0 = Date.parse('2026-12-05T10:00:00Z');
let seq = 0;

function szlRead(src: string, szl: string, at: number): Event {
  seq++;
  const ts = new Date(T0 + at * 1000).toISOString();
  return {
    v: EVENT_SCHEMA_VERSION,
    id: `gw:${seq}`,
    gateway: 'gw',
    seq,
    ts,
    received: ts,
    source: 's7comm',
    kind: 'security',
    action: 's7comm.read_szl',
    severity: 5,
    message: 'S7 read szl request',
    device: { id: 's7comm:10.0.10.20' },
    src: { ip: src, port: 50213 },
    dst: { ip: '10.0.10.20', port: 102 },
    fields: { direction: 'request', szl_id: szl, szl_index: '0x0000' },
    tags: [],
  };
}

function enumerationAlerts(src: string, placeholders?: Record<string, string[]>): string[] {
  const loaded = loadDetection({
    rulesDirs: [path.join(REPO_ROOT, 'rules', 'ics')],
    ...(placeholders ? { placeholders } : {}),
  });
  assert.deepEqual(loaded.errors, []);
  const out: string[] = [];
  ['0x0011', '0x001c', '0x0131'].forEach((szl, i) => {
    for (const a of loaded.engine.process(szlRead(src, szl, i), T0 + i * 1000))
      if (a.level !== 'informational') out.push(a.rule.title);
  });
  for (const a of loaded.engine.flush()) if (a.level !== 'informational') out.push(a.rule.title);
  return out;
}

const ENUM = 'Siemens S7 SZL enumeration (several system status lists read by one host)';

describe('engineering stations as a Sigma placeholder', () => {
  const site = { engineering_stations: ['10.0.5.20', '10.0.6.*'] };

  it('fires for an unknown host, not for a configured engineering station', () => {
    assert.deepEqual(enumerationAlerts('10.0.9.66', site), [ENUM]);
    assert.deepEqual(enumerationAlerts('10.0.5.20', site), []);
    assert.deepEqual(enumerationAlerts('10.0.6.31', site), [], 'a wildcard entry');
    assert.deepEqual(enumerationAlerts('10.0.5.201', site), [ENUM], 'an exact address is not a prefix');
  });

  it('with no engineering station configured, every host counts', () => {
    assert.deepEqual(enumerationAlerts('10.0.5.20'), [ENUM]);
  });

  it('detection.placeholders is validated', () => {
    const base = {
      gateway: { id: 'gw-1', data_dir: '/tmp/x' },
      sources: {},
      central: { endpoint: 'wss://central.example.net:8443/link' },
    };
    const ok = gatewayConfigSchema.safeParse({ ...base, detection: { placeholders: site } });
    assert.ok(ok.success, ok.success ? '' : JSON.stringify(ok.error.issues));
    assert.deepEqual(ok.data.detection.placeholders, site);
    const badName = gatewayConfigSchema.safeParse({ ...base, detection: { placeholders: { 'a b': ['x'] } } });
    assert.equal(badName.success, false);
    const empty = gatewayConfigSchema.safeParse({ ...base, detection: { placeholders: { x: [''] } } });
    assert.equal(empty.success, false);
    const notList = gatewayConfigSchema.safeParse({
      ...base,
      detection: { placeholders: { x: '10.0.0.1' } },
    });
    assert.equal(notList.success, false);
  });
});
