/**
 * Loading Sigma YAML: metadata validated into a typed rule, typed errors naming the attribute for
 * bad input, multi-document files mixing rules, correlations and filters, the rule collection
 * actions (global, reset, repeat) and global filters (filters specification) applied to the rules
 * they name.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileRuleSet, loadSigma } from '../../../protocols/sigma/index.ts';
import { loadOne, makeEvent } from './helpers.ts';

const RULE = `title: Whoami Execution
id: 545a5da6-f103-4919-a519-e9aec1026ee4
name: whoami
status: test
description: Detects a whoami.exe execution
references:
    - https://example.org
author: Florian Roth
date: 2019-10-23
tags:
    - attack.discovery
    - attack.t1033
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image: 'C:\\Windows\\System32\\whoami.exe'
    condition: selection
fields:
    - Image
falsepositives:
    - Admin activity
level: high
custom_field: kept out
`;

describe('loading one rule', () => {
  test('every attribute of the rules specification', () => {
    const r = loadOne(RULE);
    assert.equal(r.title, 'Whoami Execution');
    assert.equal(r.id, '545a5da6-f103-4919-a519-e9aec1026ee4');
    assert.equal(r.name, 'whoami');
    assert.equal(r.status, 'test');
    assert.equal(r.level, 'high');
    assert.equal(r.date, '2019-10-23');
    assert.deepEqual(r.tags, ['attack.discovery', 'attack.t1033']);
    assert.deepEqual(r.logsource, { category: 'process_creation', product: 'windows' });
    assert.deepEqual(r.detection, { selection: { Image: 'C:\\Windows\\System32\\whoami.exe' } });
    assert.deepEqual(r.condition, ['selection']);
    assert.deepEqual(r.fields, ['Image']);
    assert.deepEqual(r.falsepositives, ['Admin activity']);
    assert.equal((r as unknown as Record<string, unknown>).custom_field, undefined);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not: [valid', 'yaml', /./],
    ['a: 1\na: 2', 'yaml', /[Mm]ap keys must be unique|duplicate/],
    ['- just\n- a list', 'not_a_rule', /not a map/],
    ['logsource: {}\ndetection: {x: {a: 1}, condition: x}', 'invalid_field', /'title' is required/],
    ['title: t\ndetection: {x: {a: 1}, condition: x}', 'invalid_field', /'logsource' is required/],
    ['title: t\nlogsource: {}\ndetection: {x: {a: 1}}', 'invalid_detection', /condition/],
    ['title: t\nlogsource: {}\ndetection: {condition: x}', 'invalid_detection', /no search identifier/],
    [
      'title: t\nlevel: severe\nlogsource: {}\ndetection: {x: {a: 1}, condition: x}',
      'invalid_field',
      /'level' must be one of/,
    ],
    [
      'title: t\nstatus: beta\nlogsource: {}\ndetection: {x: {a: 1}, condition: x}',
      'invalid_field',
      /'status'/,
    ],
    [
      'title: t\ntags: [Not A Tag]\nlogsource: {}\ndetection: {x: {a: 1}, condition: x}',
      'invalid_field',
      /tag/,
    ],
    [
      'title: [1]\nlogsource: {}\ndetection: {x: {a: 1}, condition: x}',
      'invalid_field',
      /'title' must be a string/,
    ],
    [
      `title: ${'x'.repeat(300)}\nlogsource: {}\ndetection: {x: {a: 1}, condition: x}`,
      'invalid_field',
      /256/,
    ],
    [
      'title: t\naction: explode\nlogsource: {}\ndetection: {x: {a: 1}, condition: x}',
      'not_a_rule',
      /unknown action/,
    ],
    [
      'a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'yaml',
      /alias|Excessive/i,
    ],
  ];
  for (const [text, code, message] of bad)
    test(`refused as ${code}: ${JSON.stringify(text.slice(0, 50))}`, () => {
      const r = loadSigma(text);
      assert.equal(r.rules.length, 0);
      assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
      assert.equal(r.errors[0]!.code, code);
      assert.match(r.errors[0]!.message, message);
    });

  test('a bad document does not stop the good ones, and errors say which document', () => {
    const r = loadSigma(`${RULE}---\ntitle: broken\n---\n${RULE.replace('whoami', 'whoami2')}`, {
      source: 'x.yml',
    });
    assert.equal(r.rules.length, 2);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.document, 1);
    assert.match(r.errors[0]!.message, /^x\.yml: /);
  });

  test('input bounds', () => {
    assert.equal(loadSigma('a'.repeat(100), { maxBytes: 10 }).errors[0]!.code, 'limit');
    assert.equal(loadSigma(42 as unknown as string).errors[0]!.code, 'yaml');
    assert.deepEqual(loadSigma(''), { rules: [], correlations: [], filters: [], errors: [] });
  });
});

describe('rule collections (Sigma 1.0 "Rule Collections")', () => {
  test('action: global merges into every following document; repeat and reset', () => {
    const text = `action: global
title: Suspicious thing
logsource:
    product: syslog
detection:
    condition: selection
level: high
---
id: one
detection:
    selection:
        message|contains: alpha
---
action: repeat
id: two
detection:
    selection:
        message|contains: beta
---
action: reset
---
title: Plain
id: three
logsource:
    product: syslog
detection:
    sel:
        message: x
    condition: sel
`;
    const r = loadSigma(text);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.rules.map((x) => [x.id, x.title, x.level]),
      [
        ['one', 'Suspicious thing', 'high'],
        ['two', 'Suspicious thing', 'high'],
        ['three', 'Plain', undefined],
      ],
    );
    const set = compileRuleSet(r.rules);
    assert.deepEqual(set.errors, []);
    const hit = (m: string) => set.match(makeEvent({ message: m })).map((x) => x.key);
    // repeat merges over the previous document: "two" has the same selection key, now with beta
    assert.deepEqual(hit('alpha'), ['one']);
    assert.deepEqual(hit('beta'), ['two']);
  });
});

describe('global filters (filters specification v2.0.0)', () => {
  test('a filter AND NOT-s its selection onto the rules it names, by id or name', () => {
    const r = loadSigma(`title: Logins
id: r-login
name: login
logsource: {product: syslog}
detection:
    sel: {message|contains: 'login ok'}
    condition: sel
---
title: Other
id: r-other
logsource: {product: syslog}
detection:
    sel: {message|contains: 'login ok'}
    condition: sel
---
title: Filter Administrator account
logsource: {product: syslog}
filter:
    rules:
        - login
    selection:
        message|contains: 'user=adm_'
    condition: selection
`);
    assert.deepEqual(r.errors, []);
    assert.equal(r.filters.length, 1);
    const set = compileRuleSet(r.rules, {}, r.filters);
    const hit = (m: string) => set.match(makeEvent({ message: m })).map((x) => x.key);
    assert.deepEqual(hit('login ok user=bob'), ['r-login', 'r-other']);
    assert.deepEqual(hit('login ok user=adm_joe'), ['r-other']);
    assert.deepEqual(set.rules[0]!.filters, ['Filter Administrator account']);
  });
});

describe('logsources', () => {
  test('mapped products guard event.source; unmapped ones leave the rule inactive unless configured', () => {
    const r = loadSigma(`title: a
id: modbus-rule
logsource: {product: modbus}
detection: {sel: {action: 'modbus.write_*'}, condition: sel}
---
title: b
id: cisco-rule
logsource: {product: cisco, service: aaa}
detection: {sel: ['no logging'], condition: sel}
`);
    const def = compileRuleSet(r.rules);
    assert.deepEqual([...def.rules[1]!.sources!], []);
    assert.deepEqual(
      def.match(makeEvent({ source: 'modbus', action: 'modbus.write_single_coil' })).map((x) => x.key),
      ['modbus-rule'],
    );
    assert.deepEqual(
      def.match(makeEvent({ source: 'syslog', action: 'modbus.write_single_coil' })).map((x) => x.key),
      [],
    );
    assert.deepEqual(
      def.match(makeEvent({ message: 'no logging host' })).map((x) => x.key),
      [],
    );
    const withCisco = compileRuleSet(r.rules, { logsources: { 'product:cisco': ['syslog'] } });
    assert.deepEqual(
      withCisco.match(makeEvent({ message: 'no logging host' })).map((x) => x.key),
      ['cisco-rule'],
    );
  });
});
