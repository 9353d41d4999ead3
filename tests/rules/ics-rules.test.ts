/**
 * The shipped ruleset (rules/): every rule loads; every ATT&CK technique it names is an active
 * ATT&CK for ICS technique; each rule fires on the traffic it is written for — real captures
 * through `siem-gateway replay --rules`, or event streams built the way the gateway builds them —
 * and stays silent on the benign reference captures.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { loadDetection } from '../../gateway/detection/index.ts';
import { EVENT_SCHEMA_VERSION, type Event, type PendingEvent } from '../../protocols/event/schema.ts';
import type { SigmaAlert } from '../../protocols/sigma/index.ts';
import { parseSyslog, syslogToEvent } from '../../protocols/syslog/index.ts';
import { REPO_ROOT, sharedData } from '../support/env.ts';

const run = promisify(execFile);
const RULES = path.join(REPO_ROOT, 'rules', 'ics');

type ReplayAlert = { rule_title: string; techniques: string[]; events: Array<{ frame?: number }> };

async function replayAlerts(file: string): Promise<ReplayAlert[]> {
  const { stdout } = await run(
    process.execPath,
    [path.join(REPO_ROOT, 'bin', 'siem-gateway.js'), 'replay', '--rules', RULES, file],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{"type":"alert"'))
    .map((l) => JSON.parse(l) as ReplayAlert);
}

function engine() {
  const loaded = loadDetection({ rulesDirs: [RULES] });
  assert.deepEqual(loaded.errors, []);
  return loaded.engine;
}

let seq = 0;
function ev(pending: PendingEvent): Event {
  seq += 1;
  return { v: EVENT_SCHEMA_VERSION, id: `gw:${seq}`, gateway: 'gw', seq, ...pending };
}

function modbus(at: number, action: string, fields: Record<string, unknown>, src = '10.0.9.66'): Event {
  const ts = new Date(at).toISOString();
  return ev({
    ts,
    received: ts,
    source: 'modbus',
    kind: 'security',
    action,
    severity: 5,
    message: action,
    device: { id: 'modbus:10.0.10.5/1' },
    src: { ip: src, port: 50000 },
    dst: { ip: '10.0.10.5', port: 502 },
    fields: { direction: 'request', unit_id: 1, ...fields },
    tags: [],
  });
}

const titles = (alerts: SigmaAlert[]) => [...new Set(alerts.map((a) => a.rule.title))].sort();

describe('the ATT&CK for ICS ruleset', () => {
  it('loads without a refused rule, and names only active ATT&CK for ICS techniques', (t) => {
    const tsv = sharedData(t, 'mitre', 'ics_attack_techniques.tsv');
    if (!tsv) return;
    const known = new Set(
      readFileSync(tsv, 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.split('\t')[0]),
    );
    const e = engine();
    assert.ok(e.ruleSet.rules.length + e.correlations.length >= 12, `${e.ruleSet.rules.length} rules`);
    const named = new Set<string>();
    for (const rule of e.ruleSet.rules)
      for (const tag of rule.rule.tags ?? [])
        if (/^attack\.t\d{4}$/i.test(tag)) named.add(tag.slice(7).toUpperCase());
    for (const c of e.correlations)
      for (const tag of c.tags ?? [])
        if (/^attack\.t\d{4}$/i.test(tag)) named.add(tag.slice(7).toUpperCase());
    assert.ok(named.size >= 10);
    for (const id of named) assert.ok(known.has(id), `${id} is not an active ATT&CK for ICS technique`);
  });

  it('flags disruptive diagnostics and identification reads in a real capture, naming the frames', async (t) => {
    const file = sharedData(t, 'suricata-verify', 'modbus', 'modbus.pcap');
    if (!file) return;
    const alerts = await replayAlerts(file);
    const diag = alerts.find((a) => a.rule_title.startsWith('Modbus diagnostics'));
    assert.ok(diag, 'diagnostics alert');
    assert.deepEqual(diag.techniques.sort(), ['T0814', 'T0816']);
    assert.equal(diag.events[0]?.frame, 8);
    assert.ok(alerts.some((a) => a.rule_title === 'Modbus device identification read'));
  });

  it("flags the function-code sweep of Zeek's Modbus fuzzing capture, and nothing else", async (t) => {
    const file = sharedData(t, 'modbus', 'zeek', 'fuzz-72.pcap');
    if (!file) return;
    const alerts = await replayAlerts(file);
    assert.deepEqual(
      [...new Set(alerts.map((a) => a.rule_title))],
      ['Modbus function code scan (many function codes from one source)'],
    );
    assert.deepEqual(alerts[0]?.techniques, ['T0888']);
  });

  for (const name of ['ModbusTCP.pcap', 'mb2.pcap', 'modbus_test.pcap', 'modbus_test_2.pcap']) {
    it(`stays silent on the benign ITI capture ${name}`, async (t: TestContext) => {
      const file = sharedData(t, 'modbus', 'iti', name);
      if (!file) return;
      assert.deepEqual(await replayAlerts(file), []);
    });
  }

  it('a register scan and a write burst from a rogue master', () => {
    const e = engine();
    const t0 = Date.parse('2026-11-21T10:00:00Z');
    const alerts: SigmaAlert[] = [];
    for (let i = 0; i < 600; i += 1) {
      alerts.push(
        ...e.process(
          modbus(t0 + i * 50, 'modbus.read_holding_registers', { address: i, quantity: 1 }),
          t0 + i * 50,
        ),
      );
    }
    for (let i = 0; i < 1100; i += 1) {
      alerts.push(
        ...e.process(
          modbus(t0 + 40_000 + i * 5, 'modbus.write_single_register', { address: 7, values: [i] }),
          t0 + 40_000 + i * 5,
        ),
      );
    }
    alerts.push(...e.flush());
    assert.deepEqual(
      titles(alerts.filter((a) => a.rule.type !== 'detection' || a.level !== 'informational')),
      [
        'Burst of Modbus writes from one master (brute force I/O)',
        'Modbus point scan (many distinct addresses from one source)',
      ],
    );
    const scan = alerts.find((a) => a.rule.title.startsWith('Modbus point scan'));
    assert.deepEqual(scan?.techniques, ['T0861']);
    assert.equal(scan?.entity.group?.['src.ip'], '10.0.9.66');
  });

  it('force listen only from a policy-violating master', () => {
    const e = engine();
    const at = Date.parse('2026-11-21T11:00:00Z');
    const alerts = [
      ...e.process(modbus(at, 'modbus.diagnostics', { sub_function: 4 }), at),
      ...e.process(
        modbus(at + 1, 'modbus.policy_violation', { policy: 'blocked', function_code: 8 }),
        at + 1,
      ),
      ...e.process(modbus(at + 2, 'modbus.diagnostics', { sub_function: 0 }), at + 2),
    ];
    assert.deepEqual(titles(alerts), [
      'Modbus diagnostics that silence or restart a device',
      'Modbus request outside the PLC\u2019s policy (rogue master or unauthorised command)'.replace(
        '\u2019',
        "'",
      ),
    ]);
    assert.equal(alerts.find((a) => a.rule.title.startsWith('Modbus diagnostics'))?.level, 'critical');
  });

  it('an SSH brute force, then a login from the same address', () => {
    const e = engine();
    const t0 = Date.parse('2026-11-21T12:00:00Z');
    const lines = [
      ...Array.from(
        { length: 6 },
        (_, i) =>
          [
            t0 + i * 2000,
            `Failed password for invalid user admin from 203.0.113.9 port ${4000 + i} ssh2`,
          ] as const,
      ),
      [t0 + 30_000, 'Accepted password for admin from 203.0.113.9 port 4100 ssh2'] as const,
    ];
    const alerts: SigmaAlert[] = [];
    for (const [at, text] of lines) {
      const parsed = parseSyslog(`<38>1 ${new Date(at).toISOString()} hmi-2 sshd 77 - - ${text}`, {
        now: new Date(at),
      });
      assert.ok(parsed.ok);
      const event = ev(syslogToEvent(parsed.message, { received: new Date(at), transport: 'tcp' }));
      alerts.push(...e.process(event, at));
    }
    alerts.push(...e.flush());
    const found = titles(alerts.filter((a) => a.rule.type !== 'detection'));
    assert.deepEqual(found, [
      'SSH brute force against a plant host',
      'SSH login after a brute force from the same address',
    ]);
    // A correlation carries its own techniques and those of the rules it builds on.
    assert.deepEqual(alerts.find((a) => a.rule.title.startsWith('SSH login after'))?.techniques.sort(), [
      'T0812',
      'T0859',
    ]);
  });

  it('a new device on the network', () => {
    const e = engine();
    const at = Date.parse('2026-11-21T13:00:00Z');
    const alerts = e.process(
      ev({
        ts: new Date(at).toISOString(),
        received: new Date(at).toISOString(),
        source: 'gateway',
        kind: 'security',
        action: 'gateway.new_device',
        severity: 5,
        message: 'new modbus device',
        device: { id: 'modbus:10.0.10.99/1' },
        fields: {},
        tags: [],
      }),
      at,
    );
    assert.deepEqual(titles(alerts), ['New device on the plant network']);
  });
});
