/**
 * The detection section of the Sigma specification, table by table: wildcards and escaping
 * (rules specification "String Wildcard", "Escaping"), case rules ("General"), lists and maps,
 * null and empty values, keywords, and every modifier of the modifiers appendix v2.1.0. Each row
 * is a value, an event field and whether it must match: the examples are the specification's own
 * where it gives one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileError, detects } from './helpers.ts';

type Row = [key: string, value: unknown, field: unknown, expected: boolean];

function table(name: string, rows: Row[]) {
  describe(name, () => {
    for (const [key, value, field, expected] of rows) {
      test(`${key}: ${JSON.stringify(value)} vs ${JSON.stringify(field)} → ${expected}`, () => {
        const fields = field === undefined ? {} : { f: field };
        assert.equal(detects({ sel: { [key]: value } }, { fields }), expected);
      });
    }
  });
}

table('wildcards (rules specification "String Wildcard")', [
  ['f', 'prog?.exe', 'progA.exe', true],
  ['f', 'prog?.exe', 'progB.exe', true],
  ['f', 'prog?.exe', 'prog.exe', false],
  ['f', 'prog?.exe', 'progAB.exe', false],
  ['f', 'antivirus_V*.exe', 'antivirus_V1.exe', true],
  ['f', 'antivirus_V*.exe', 'antivirus_V21.2.1.exe', true],
  ['f', 'antivirus_V*.exe', 'antivirus_V1.exe.bak', false],
  ['f', 'adm*', 'administrator', true],
  ['f', 'adm*', 'badmin', false],
  ['f', '*\\cmd.exe', 'C:\\Windows\\cmd.exe', true],
  ['f', '*', '', true],
  ['f', '*', 'anything', true],
  ['f', 'a*b*c', 'aXXbYYc', true],
  ['f', 'a*b*c', 'aXXcYYb', false],
  ['f', 'a*b*c', 'abc', true],
  ['f', 'ab*ab', 'ab', false],
  ['f', 'ab*ab', 'abab', true],
  ['f', '*a?c*', 'xxabcxx', true],
  ['f', '??', 'é1', true],
  ['f', 'x*y', 'x\ny', true],
  ['f', '', '', true],
  ['f', '', 'x', false],
]);

table('escaping (rules specification "Escaping")', [
  ['f', 'C:\\Windows\\System32', 'C:\\Windows\\System32', true],
  ['f', 'C:\\\\Windows', 'C:\\Windows', true],
  ['f', 'a\\*b', 'a*b', true],
  ['f', 'a\\*b', 'aXb', false],
  ['f', 'a\\?b', 'a?b', true],
  ['f', 'a\\?b', 'aXb', false],
  ['f', 'dir\\\\*', 'dir\\anything', true],
  ['f', 'dir\\\\*', 'dir\\', true],
  ['f', 'dir\\\\\\*', 'dir\\*', true],
  ['f', 'dir\\\\\\*', 'dir\\x', false],
  ['f', 'a\\\\\\\\b', 'a\\\\b', true],
  ['f', 'a\\\\\\b', 'a\\\\b', true],
  // zeek_smb_converted_win_lm_namedpipe.yml: '\\\\\*\\IPC$' is the string \\*\IPC$
  ['f', '\\\\\\\\\\*\\\\IPC$', '\\\\*\\IPC$', true],
  ['f', '\\\\\\\\\\*\\\\IPC$', '\\\\server\\IPC$', false],
  // zeek_smb_converted_win_atsvc_task.yml: '\\\*\IPC$' is \*\IPC$
  ['f', '\\\\\\*\\IPC$', '\\*\\IPC$', true],
]);

table('case (rules specification "General": values are case-insensitive)', [
  ['f', 'EVILSERVICE', 'evilservice', true],
  ['f', 'evil*', 'EVILSERVICE', true],
  ['f|contains', 'Service', 'EVILSERVICE', true],
  ['f|cased', 'Evil', 'evil', false],
  ['f|cased', 'Evil', 'Evil', true],
  ['f|contains|cased', 'vil', 'EVIL', false],
  ['f|re', 'evil', 'EVIL', false],
  ['f|re|i', 'evil', 'EVIL', true],
]);

table('values of other types', [
  ['f', 2000, 2000, true],
  ['f', 2000, '2000', true],
  ['f', '2000', 2000, true],
  ['f', 2000, 20001, false],
  ['f', 'true', true, true],
  ['f', true, 'True', true],
  ['f', 'x', ['a', 'x'], true],
  ['f', 'x', ['a', 'b'], false],
  ['f', 'x', { x: 1 }, false],
  ['f', ['a', 'b'], 'b', true],
  ['f', ['a', 'b'], 'c', false],
]);

table('null and empty (rules specification "Special Field Values")', [
  ['f', null, undefined, true],
  ['f', null, null, true],
  ['f', null, '', false],
  ['f', null, 'x', false],
  ['f', '', '', true],
  ['f', '', undefined, false],
  ['f', [null, 'x'], 'x', true],
  ['f', [null, 'x'], undefined, true],
]);

table('generic modifiers', [
  ['f|contains', 'dmi', 'Admin', true],
  ['f|startswith', 'adm', 'Admin', true],
  ['f|startswith', 'dmi', 'Admin', false],
  ['f|endswith', 'min', 'Admin', true],
  ['f|endswith', 'adm', 'Admin', false],
  ['f|contains|all', ['ab', 'cd'], 'xxcdxxab', true],
  ['f|contains|all', ['ab', 'cd'], 'xxab', false],
  ['f|contains', ['ab', 'cd'], 'xxcd', true],
  ['f|exists', true, 'x', true],
  ['f|exists', true, '', true],
  ['f|exists', true, null, true],
  ['f|exists', true, undefined, false],
  ['f|exists', false, undefined, true],
  ['f|exists', false, 'x', false],
  ['f|neq', 'a', 'b', true],
  ['f|neq', 'a', 'A', false],
  ['f|neq', ['a', 'b'], 'c', true],
  ['f|neq', ['a', 'b'], 'b', false],
  ['f|neq', 'a', undefined, false],
  ['f|neq', 5, 6, true],
]);

table('windash (modifiers appendix v2.1)', [
  ['f|windash', '-s', '-s', true],
  ['f|windash', '-s', '/s', true],
  ['f|windash', '-s', '\u2013s', true],
  ['f|windash', '-s', '\u2014s', true],
  ['f|windash', '-s', '\u2015s', true],
  ['f|windash', '-s', '+s', false],
  ['f|windash|contains', ' -exec -bypass', 'ps /exec \u2013bypass x', true],
  ['f|windash|contains', ' /exec', 'ps -exec', true],
]);

table('regular expressions (re, with i, m, s)', [
  ['f|re', 'f(o+|u)', 'xfooo', true],
  ['f|re', '^f(o+|u)$', 'xfoo', false],
  ['f|re', '^a.b$', 'a\nb', false],
  ['f|re|s', '^a.b$', 'a\nb', true],
  ['f|re', '^b$', 'a\nb', false],
  ['f|re|m', '^b$', 'a\nb', true],
  ['f|re|i|m|s', '^A.B$', 'x\na\nb', true],
  ['f|re', '(?i)^abc', 'ABC', true],
  ['f|re', '[0-9]{3}', 'x12y', false],
  ['f|re', '[0-9]{3}', 'x123y', true],
]);

table('cidr (IPv4 and IPv6)', [
  ['f|cidr', '10.0.0.0/8', '10.1.2.3', true],
  ['f|cidr', '10.0.0.0/8', '11.1.2.3', false],
  ['f|cidr', '192.168.0.0/23', '192.168.1.255', true],
  ['f|cidr', '192.168.0.0/23', '192.168.2.0', false],
  ['f|cidr', '0.0.0.0/0', '8.8.8.8', true],
  ['f|cidr', '8.8.8.8', '8.8.8.8', true],
  ['f|cidr', '10.0.0.0/8', '::ffff:10.0.0.1', true],
  ['f|cidr', '10.0.0.0/8', 'not an ip', false],
  ['f|cidr', 'fe80::/10', 'fe80::1', true],
  ['f|cidr', 'fe80::/10', 'FEBF::1', true],
  ['f|cidr', 'fe80::/10', 'fec0::1', false],
  ['f|cidr', '::1/128', '::1', true],
  ['f|cidr', '2620:83:8000::/48', '2620:83:8000:ffff::1', true],
  ['f|cidr', '2620:83:8000::/48', '2620:83:8001::1', false],
  ['f|cidr', 'fc00::/7', '10.0.0.1', false],
  ['f|cidr', ['10.0.0.0/8', 'fc00::/7'], 'fd00::5', true],
]);

table('numeric comparisons', [
  ['f|lt', 10, 9, true],
  ['f|lt', 10, 10, false],
  ['f|lte', 10, 10, true],
  ['f|gt', 10, 11, true],
  ['f|gt', 10, '11', true],
  ['f|gt', 10, 'eleven', false],
  ['f|gte', 10, 10, true],
  ['f|gte', 10, 9.5, false],
  ['f|gt', 1.5, 2, true],
  ['f|lt', 0, -1, true],
  ['f|gt', 10, [1, 20], true],
]);

table('time modifiers (v2.1, UTC)', [
  ['f|hour', 13, '2024-06-01T13:05:00Z', true],
  ['f|hour|gte', 22, '2024-06-01T23:05:00Z', true],
  ['f|hour|gte', 22, '2024-06-01T21:05:00Z', false],
  ['f|minute', 5, '2024-06-01T13:05:00Z', true],
  ['f|day', 1, '2024-06-01T13:05:00Z', true],
  ['f|month', 6, '2024-06-01T13:05:00Z', true],
  ['f|year', 2024, '2024-06-01T13:05:00Z', true],
  ['f|week', 22, '2024-06-01T13:05:00Z', true],
  ['f|hour', 13, 'not a date', false],
]);

// base64 of '/bin/bash' is 'L2Jpbi9iYXNo'.
table('encodings (base64, base64offset, utf16le/wide, utf16be, utf16)', [
  ['f|base64', '/bin/bash', 'L2Jpbi9iYXNo', true],
  ['f|base64|contains', '/bin/bash', 'xxL2Jpbi9iYXNoyy', true],
  ['f|base64', '/bin/bash', 'l2jpbi9iyxno', false],
  ['f|base64offset|contains', 'http://', Buffer.from('http://x').toString('base64'), true],
  ['f|base64offset|contains', 'http://', Buffer.from('.http://x').toString('base64'), true],
  ['f|base64offset|contains', 'http://', Buffer.from('..http://x').toString('base64'), true],
  ['f|base64offset|contains', 'http://', Buffer.from('..https://x').toString('base64'), false],
  ['f|wide|base64offset|contains', 'cmd', Buffer.from('run cmd now', 'utf16le').toString('base64'), true],
  ['f|utf16le|base64', 'cmd', 'YwBtAGQA', true],
  ['f|utf16be|base64', 'cmd', 'AGMAbQBk', true],
  ['f|utf16|base64', 'cmd', '//5jAG0AZAA=', true],
  ['f|wide|contains', 'cmd', 'x c\u0000m\u0000d\u0000 y', true],
]);

describe('field references and placeholders', () => {
  test('fieldref: equal, contains, neq, absent', () => {
    assert.equal(detects({ sel: { 'a|fieldref': 'b' } }, { fields: { a: 'X', b: 'x' } }), true);
    assert.equal(detects({ sel: { 'a|fieldref': 'b' } }, { fields: { a: 'X', b: 'y' } }), false);
    assert.equal(detects({ sel: { 'a|fieldref': 'b' } }, { fields: { a: 'X' } }), false);
    assert.equal(detects({ sel: { 'a|fieldref|contains': 'b' } }, { fields: { a: 'xyz', b: 'Y' } }), true);
    assert.equal(detects({ sel: { 'a|fieldref|neq': 'b' } }, { fields: { a: 'x', b: 'y' } }), true);
    assert.equal(detects({ sel: { 'a|fieldref|neq': 'b' } }, { fields: { a: 'x', b: 'x' } }), false);
    assert.equal(
      detects({ sel: { 'src.ip|fieldref': 'dst.ip' } }, { src: { ip: '1.2.3.4' }, dst: { ip: '1.2.3.4' } }),
      true,
    );
  });
  test('expand: placeholders from config (rules specification "Placeholders")', () => {
    const placeholders = { Admins: ['root', 'adm_*'], Servers: ['srv1', 'srv2'] };
    assert.equal(
      detects({ sel: { 'f|expand': '%Admins%' } }, { fields: { f: 'adm_joe' } }, { placeholders }),
      true,
    );
    assert.equal(
      detects({ sel: { 'f|expand': '%Admins%' } }, { fields: { f: 'ROOT' } }, { placeholders }),
      true,
    );
    assert.equal(
      detects({ sel: { 'f|expand': '%Admins%' } }, { fields: { f: 'joe' } }, { placeholders }),
      false,
    );
    assert.equal(
      detects(
        { sel: { 'f|expand': '%Admins%@%Servers%' } },
        { fields: { f: 'root@srv2' } },
        { placeholders },
      ),
      true,
    );
    assert.equal(
      detects(
        { sel: { 'f|expand': '\\%plain%Servers%' } },
        { fields: { f: '%plainsrv1' } },
        { placeholders },
      ),
      true,
    );
    assert.equal(detects({ sel: { f: '%Admins%' } }, { fields: { f: '%Admins%' } }, { placeholders }), true);
    assert.equal(
      compileError({ sel: { 'f|expand': '%Nope%' } }, { placeholders }).code,
      'unknown_placeholder',
    );
  });
});

describe('lists, maps, keywords', () => {
  test('a map is AND, a list of maps is OR', () => {
    const det = { sel: { a: 'x', b: 'y' } };
    assert.equal(detects(det, { fields: { a: 'x', b: 'y' } }), true);
    assert.equal(detects(det, { fields: { a: 'x', b: 'z' } }), false);
    const anyOf = { sel: [{ a: 'x' }, { b: 'y' }] };
    assert.equal(detects(anyOf, { fields: { b: 'y' } }), true);
    assert.equal(detects(anyOf, { fields: { b: 'z' } }), false);
  });
  test('keywords search the message, contains and case-insensitive; |all ANDs them', () => {
    assert.equal(
      detects({ sel: ['EVILSERVICE', 'svchost.exe -n evil'] }, { message: 'started evilservice now' }),
      true,
    );
    assert.equal(
      detects({ sel: ['EVILSERVICE', 'svchost.exe -n evil'] }, { message: 'nothing here' }),
      false,
    );
    const all = { sel: { '|all': ['OabVirtualDirectory', ' -ExternalUrl '] } };
    assert.equal(detects(all, { message: 'Set-OabVirtualDirectory -ExternalUrl http://x' }), true);
    assert.equal(detects(all, { message: 'Set-OabVirtualDirectory' }), false);
    assert.equal(detects({ sel: ['Trojan*FOUND'] }, { message: 'x: Trojan.Gen FOUND' }), true);
    assert.equal(detects({ sel: ['x'] }, { message: 'X' }, { keywordFields: ['host'] }), false);
    assert.equal(detects({ sel: ['plc'] }, { host: 'PLC-7' }, { keywordFields: ['host', 'message'] }), true);
  });
  test('Event paths and the field map', () => {
    assert.equal(detects({ sel: { host: 'plc-*' } }, { host: 'PLC-7' }), true);
    assert.equal(detects({ sel: { 'src.ip|cidr': '10.0.0.0/8' } }, { src: { ip: '10.0.0.9' } }), true);
    assert.equal(detects({ sel: { 'fields.function_code': 6 } }, { fields: { function_code: 6 } }), true);
    assert.equal(detects({ sel: { function_code: 6 } }, { fields: { function_code: 6 } }), true);
    assert.equal(detects({ sel: { 'id.orig_h': '1.2.3.4' } }, { fields: { 'id.orig_h': '1.2.3.4' } }), true);
    assert.equal(detects({ sel: { 'a.b': 1 } }, { fields: { a: { b: 1 } } }), true);
    const fieldMap = { DestinationPort: 'dst.port', ClientId: 'fields.client_id' };
    assert.equal(detects({ sel: { DestinationPort: 502 } }, { dst: { port: 502 } }, { fieldMap }), true);
    assert.equal(
      detects({ sel: { ClientId: 'evil*' } }, { fields: { client_id: 'evil-1' } }, { fieldMap }),
      true,
    );
    assert.equal(
      detects(
        { sel: { severity: 3, action: 'modbus.*' } },
        { severity: 3, action: 'modbus.write_single_coil' },
      ),
      true,
    );
    assert.equal(detects({ sel: { device: 'x' } }, { device: { id: 'x' } }), false);
  });
});

describe('refusals: clear, typed, never half-applied', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ sel: { 'f|nope': 'x' } }, 'unknown_modifier'],
    [{ sel: { 'f|all': 'x' } }, 'invalid_modifier'],
    [{ sel: { 'f|contains|re': 'x' } }, 'invalid_modifier'],
    [{ sel: { 'f|contains|base64': 'x' } }, 'invalid_modifier'],
    [{ sel: { 'f|i': 'x' } }, 'invalid_modifier'],
    [{ sel: { 'f|cidr|lt': 'x' } }, 'invalid_modifier'],
    [{ sel: { 'f|re': '([a-z' } }, 'invalid_regex'],
    [{ sel: { 'f|cidr': '10.0.0.0/33' } }, 'invalid_cidr'],
    [{ sel: { 'f|cidr': 'fe80:::1/10' } }, 'invalid_cidr'],
    [{ sel: { 'f|gt': 'ten' } }, 'invalid_value'],
    [{ sel: { 'f|exists': 'yes' } }, 'invalid_value'],
    [{ sel: { f: { nested: 1 } } }, 'invalid_value'],
    [{ sel: { f: [] } }, 'invalid_value'],
    [{ sel: { 'f|base64': 'a*b' } }, 'invalid_value'],
    [{ sel: {} }, 'invalid_detection'],
    [{ sel: null }, 'invalid_detection'],
    [{ sel: { f: 'x' }, condition: 'sel and other' }, 'unknown_identifier'],
    [{ sel: { f: 'x' }, condition: '1 of filter*' }, 'unknown_identifier'],
    [{ sel: { f: 'x' }, condition: 'sel | count() > 5' }, 'unsupported'],
  ];
  for (const [det, code] of cases)
    test(`${JSON.stringify(det)} → ${code}`, () => {
      const e = compileError(det);
      assert.equal(e.code, code);
      assert.equal(e.rule, 'r1');
      assert.match(e.message, /^r1: /);
    });
});
