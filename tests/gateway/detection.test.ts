/**
 * The gateway's managed rule set (gateway/detection/managed.ts, link SPEC §8.3): a pushed set is
 * checked against its version, compiled whole and swapped in, persisted so it runs after a
 * restart; a bad set is refused with the rule and the reason while the old set keeps detecting;
 * and open correlation windows survive a restart (a brute force at 3 of 5, restart, 2 more →
 * alert) and a swap to a set with the same correlation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import pino from 'pino';
import { createManagedDetection } from '../../gateway/detection/managed.ts';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import { type RulesMessage, ruleSetVersion } from '../../protocols/link/codec.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-21T10:00:00Z');

const FAIL = `title: SSH failure
id: fail
name: fail
logsource: {product: syslog}
detection:
  sel: {action: syslog.sshd.auth_failure}
  condition: sel
level: informational
`;
const BRUTE = `title: SSH brute force
id: brute
correlation: {type: event_count, rules: [fail], group-by: [src.ip], timespan: 1m, condition: {gte: 5}}
level: high
tags: [attack.t0812]
`;
const WRITE = `title: Modbus write
id: write
logsource: {product: modbus}
detection:
  sel: {action: modbus.write_single_register}
  condition: sel
level: medium
`;

let seq = 0;
function event(action: string, at: number, source: Event['source'] = 'syslog'): Event {
  seq += 1;
  const ts = new Date(at).toISOString();
  return {
    v: EVENT_SCHEMA_VERSION,
    id: `gw:${seq}`,
    gateway: 'gw',
    seq,
    ts,
    received: ts,
    source,
    kind: 'security',
    action,
    severity: 5,
    message: action,
    src: { ip: '203.0.113.7' },
    fields: {},
    tags: [],
  };
}

const push = (documents: string[], id = 'central-edge'): RulesMessage => ({
  type: 'rules',
  id,
  version: ruleSetVersion(documents),
  documents,
});

const dirs: string[] = [];
function setup(localRules: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-det-'));
  const rulesDir = mkdtempSync(path.join(tmpdir(), 'siem-rules-'));
  dirs.push(dataDir, rulesDir);
  for (const [name, text] of Object.entries(localRules)) writeFileSync(path.join(rulesDir, name), text);
  const open = () =>
    createManagedDetection({ dataDir, rulesDirs: [rulesDir], logger, stateIntervalMs: 60_000 });
  return { open };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const titles = (d: ReturnType<ReturnType<typeof setup>['open']>, events: Event[]) =>
  events.flatMap((e) => d.engine.process(e, Date.parse(e.ts)).map((a) => a.rule.title));

describe('the gateway rule set', () => {
  it('runs the local rules until central pushes a set, then the pushed set, also after a restart', () => {
    const { open } = setup({ 'write.yml': WRITE });
    const d = open();
    assert.equal(d.running().source, 'local');
    assert.equal(d.running().version, ruleSetVersion([WRITE]));
    assert.deepEqual(titles(d, [event('modbus.write_single_register', T0, 'modbus')]), ['Modbus write']);

    const set = push([FAIL, BRUTE]);
    const status = d.apply(set);
    assert.deepEqual(status, {
      type: 'rules_status',
      id: 'central-edge',
      version: set.version,
      requested: set.version,
      ok: true,
      rules: 2,
    });
    assert.deepEqual(titles(d, [event('modbus.write_single_register', T0 + 1, 'modbus')]), []);
    d.close();

    const again = open();
    assert.deepEqual(again.running(), {
      id: 'central-edge',
      version: set.version,
      source: 'central',
      rules: 2,
      errors: [],
    });
    const found = titles(
      again,
      [0, 1, 2, 3, 4].map((i) => event('syslog.sshd.auth_failure', T0 + i * 1000)),
    );
    assert.deepEqual(found, ['SSH brute force']);
    again.close();
  });

  it('refuses a bad set whole, naming the rule, field and reason; the old set keeps running', () => {
    const { open } = setup({ 'write.yml': WRITE });
    const d = open();
    const bad = `title: Bad regex\nid: bad-re\nlogsource: {product: syslog}\ndetection:\n  sel: {message|re: '(unclosed'}\n  condition: sel\n`;
    const status = d.apply(push([FAIL, bad]));
    assert.equal(status.ok, false);
    assert.equal(status.version, ruleSetVersion([WRITE]), 'reports the set it still runs');
    assert.match(status.error!, /bad-re/);
    assert.match(status.error!, /message\|re/);
    assert.deepEqual(titles(d, [event('modbus.write_single_register', T0, 'modbus')]), ['Modbus write']);

    const forged = { ...push([FAIL]), version: ruleSetVersion([WRITE]) };
    const mismatch = d.apply(forged);
    assert.equal(mismatch.ok, false);
    assert.match(mismatch.error!, /version does not match/);
    d.close();
    assert.equal(open().running().source, 'local', 'nothing refused was persisted');
  });

  it('keeps a brute force in progress across a restart: 3 of 5, restart, 2 more → alert', () => {
    const { open } = setup({ 'ssh.yml': `${FAIL}---\n${BRUTE}` });
    const d = open();
    const first = [0, 1, 2].map((i) => event('syslog.sshd.auth_failure', T0 + i * 1000));
    assert.deepEqual(titles(d, first), []);
    d.close(); // a graceful stop saves the open windows

    const restarted = open();
    const rest = [3, 4].map((i) => event('syslog.sshd.auth_failure', T0 + i * 1000));
    assert.deepEqual(titles(restarted, rest), ['SSH brute force']);
    restarted.close();

    // The control: without the saved windows the same two failures raise nothing.
    const { open: openFresh } = setup({ 'ssh.yml': `${FAIL}---\n${BRUTE}` });
    const fresh = openFresh();
    assert.deepEqual(
      titles(
        fresh,
        [3, 4].map((i) => event('syslog.sshd.auth_failure', T0 + i * 1000)),
      ),
      [],
    );
    fresh.close();
  });

  it('carries open windows over to a pushed set with the same correlation', () => {
    const { open } = setup({ 'ssh.yml': `${FAIL}---\n${BRUTE}` });
    const d = open();
    titles(
      d,
      [0, 1, 2].map((i) => event('syslog.sshd.auth_failure', T0 + i * 1000)),
    );
    assert.equal(d.apply(push([FAIL, BRUTE, WRITE])).ok, true);
    assert.deepEqual(
      titles(
        d,
        [3, 4].map((i) => event('syslog.sshd.auth_failure', T0 + i * 1000)),
      ),
      ['SSH brute force'],
    );
    d.close();
  });
});
