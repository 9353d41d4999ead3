/**
 * Modifier chains in every order the Sigma specification and pySigma accept (issue 20): SigmaHQ's
 * Windows rules write `CommandLine|contains|windash`, `|contains|expand`, `|base64offset|contains`,
 * `|re|i`, `|cidr`, `|contains|all`, `|windash|base64offset|contains`. pySigma applies modifiers
 * left to right to the value as it stands, so a position modifier commutes with windash, expand,
 * cased and all; encodings must come before the position (a wildcard cannot be encoded); `re`
 * and `cidr` must come first. Each row: the chain, the value, the field, whether it must match.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileError, detects } from './helpers.ts';

type Row = [key: string, value: unknown, field: unknown, expected: boolean];

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 40)}… (${s.length} chars)` : s);

function table(name: string, rows: Row[], placeholders: Record<string, string[]> = {}) {
  describe(name, () => {
    for (const [key, value, field, expected] of rows)
      test(`${key}: ${JSON.stringify(value)} vs ${clip(JSON.stringify(field))} → ${expected}`, () => {
        const fields = field === undefined ? {} : { f: field };
        assert.equal(detects({ sel: { [key]: value } }, { fields }, { placeholders }), expected);
      });
  });
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const b64w = (s: string) => Buffer.from(s, 'utf16le').toString('base64');

table('windash before or after a position modifier', [
  ['f|contains|windash', ' -enc ', 'powershell.exe /enc AAAA', true],
  ['f|contains|windash', ' -enc ', 'powershell.exe \u2013enc AAAA', true],
  ['f|windash|contains', ' -enc ', 'powershell.exe /enc AAAA', true],
  ['f|contains|windash', ' -enc ', 'powershell.exe +enc AAAA', false],
  ['f|startswith|windash', '-s', '/s rest', true],
  ['f|endswith|windash', ' -q', 'cmd /q', true],
  ['f|contains|windash|all', [' -w hidden', ' -nop'], 'ps /nop /w hidden', true],
  ['f|contains|all|windash', [' -w hidden', ' -nop'], 'ps /nop -x', false],
  ['f|cased|contains|windash', ' -Enc', 'ps /Enc x', true],
  ['f|contains|windash|cased', ' -Enc', 'ps /enc x', false],
]);

table(
  'expand before or after position and windash',
  [
    ['f|contains|expand', '%bins%', 'C:\\Tools\\psexec.exe -s', true],
    ['f|expand|contains', '%bins%', 'c:\\tools\\PSEXEC.EXE', true],
    ['f|endswith|expand', '%bins%', 'C:\\x\\procdump.exe', true],
    ['f|contains|expand', '%bins%', 'C:\\x\\notepad.exe', false],
    ['f|contains|windash|expand', '%bins% -accepteula', 'psexec.exe /accepteula', true],
    ['f|expand|windash|contains', '%bins% -accepteula', 'psexec.exe /accepteula', true],
  ],
  { bins: ['psexec.exe', 'procdump.exe'] },
);

table('encodings first, then the position', [
  ['f|base64offset|contains', 'http://', `x${b64('  get http://evil')}y`, true],
  ['f|base64offset|contains', 'http://', `x${b64(' get http://evil')}y`, true],
  ['f|base64offset|contains', 'http://', `x${b64('get http://evil')}y`, true],
  ['f|base64offset|contains', 'http://', b64('ftp://evil'), false],
  ['f|base64|contains', 'IEX', `-enc ${b64('IEX')}`, true],
  ['f|utf16le|base64offset|contains', 'Invoke-Mimikatz', `-e ${b64w('x Invoke-Mimikatz')}`, true],
  ['f|wide|base64offset|contains', 'Invoke-Mimikatz', b64w('nothing here'), false],
  // pySigma expands windash before encoding: each spelling is encoded
  ['f|windash|base64offset|contains', ' -nop', `x${b64('ps /nop')}`, true],
  ['f|windash|base64offset|contains', ' -nop', `x${b64('ps -nop')}`, true],
  ['f|windash|base64offset|contains', ' -nop', `x${b64('ps +nop')}`, false],
]);

table('re with flags and positions', [
  ['f|re', 'mimi.atz', 'MIMIKATZ', false],
  ['f|re|i', 'mimi.atz', 'run MIMIKATZ now', true],
  ['f|re|i|m', '^sekurlsa::', 'x\nSEKURLSA::logonpasswords', true],
  ['f|re|s', 'a.b', 'a\nb', true],
  ['f|re', 'a.b', 'a\nb', false],
  ['f|re|contains', 'kat', 'mimikatz', true],
  ['f|re|startswith', 'mimi|kiwi', 'kiwi.exe', true],
  ['f|re|startswith', 'mimi|kiwi', 'x kiwi.exe', false],
  ['f|re|endswith', '\\.(ps1|bat)', 'run.bat', true],
  ['f|re|endswith', '\\.(ps1|bat)', 'run.bat.txt', false],
  // Anchoring keeps the linear-time guarantee: `(?:(a+)+)$` on 'aaa…!' is exponential for a
  // backtracking engine (this row would not finish), linear for RE2.
  ['f|re|endswith', '(a+)+', `${'a'.repeat(30_000)}!`, false],
  ['f|re|startswith|i', '(x+x+)+y', `${'x'.repeat(30_000)}`, false],
]);

table('cidr, all, cased, exists, fieldref', [
  ['f|cidr', '10.0.0.0/8', '10.2.3.4', true],
  ['f|cidr', ['192.168.0.0/16', 'fe80::/10'], 'fe80::1', true],
  ['f|cidr', '10.0.0.0/8', '11.0.0.1', false],
  ['f|all|contains', ['a', 'b'], 'xbxa', true],
  ['f|contains|all', ['a', 'b'], 'xbx', false],
  ['f|contains|cased', 'Admin', 'admin', false],
  ['f|cased|contains', 'Admin', 'xAdminx', true],
  ['f|exists', true, 'x', true],
]);

describe('chains pySigma also refuses stay refused', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ sel: { 'f|contains|base64offset': 'x' } }, 'invalid_modifier'],
    [{ sel: { 'f|contains|re': 'x' } }, 'invalid_modifier'],
    [{ sel: { 'f|contains|cidr': '10.0.0.0/8' } }, 'invalid_modifier'],
    [{ sel: { 'f|base64|windash': '-x' } }, 'invalid_modifier'],
    [{ sel: { 'f|i|re': 'x' } }, 'invalid_modifier'],
    [{ sel: { 'f|contains|contains': 'x' } }, 'invalid_modifier'],
  ];
  for (const [det, code] of cases)
    test(`${JSON.stringify(det)} → ${code}`, () => assert.equal(compileError(det).code, code));

  test('a windash value with too many flags to encode is refused as a limit, not run half', () => {
    const value = Array.from({ length: 8 }, (_, i) => ` -a${i}`).join('');
    assert.equal(compileError({ sel: { 'f|windash|base64offset|contains': value } }).code, 'limit');
  });
});
