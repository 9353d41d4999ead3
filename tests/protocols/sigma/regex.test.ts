/**
 * protocols/sigma/regex.ts: which patterns keep the native RegExp (proven linear under
 * backtracking) and which run on RE2, and that both engines give the same answers on the
 * patterns native keeps. The timing side of the ReDoS fix is tests/security/sigma-redos.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileLinearRegex, nativeIsLinear } from '../../../protocols/sigma/regex.ts';

describe('nativeIsLinear', () => {
  const rows: Array<[string, string, boolean]> = [
    ['^(plc|rtu|hmi)-3[0-9]*$', '', true], // the sigma bench's pattern
    ['^[0-9a-f]{2}4[01]', 'i', true],
    ['error|warning|critical', '', true],
    ['^a.*b', '', true],
    ['^a.*b', 'm', false], // anchored at every line
    ['^a|b.*c', '', false], // the second branch is unanchored
    ['a.*b', '', false], // quadratic: every start scans to the end
    ['^a.*b.*c', '', false], // two unbounded quantifiers: quadratic
    ['(a+)+$', '', false],
    ['(a|b)*c', '', false], // quantified group
    ['^(a|aa){2}$', '', false],
    ['a{1,100}b', '', false], // too many bounded choices per start
    ['a?b?c?d?e?f?g?', '', false], // 2^7 = 128 ways
    ['[(|*]x', '', true], // specials inside a class are literals
    ['\\(a\\)*', '', false], // `\)` is an atom, then an unbounded quantifier, unanchored
    ['(?i)abc', '', false], // inline flags: RE2 runs them
    ['(a)\\1', '', false],
  ];
  for (const [source, flags, expected] of rows)
    test(`${source} /${flags} → ${expected ? 'native' : 're2'}`, () => {
      assert.equal(nativeIsLinear(source, flags), expected);
    });
});

describe('compileLinearRegex', () => {
  test('native and RE2 agree on the patterns native keeps', () => {
    const inputs = ['plc-31', 'PLC-3', 'rtu-3x', '0a41', 'error here', 'ab', 'a\nb', '(x', ''];
    for (const [source, flags] of [
      ['^(plc|rtu|hmi)-3[0-9]*$', ''],
      ['^[0-9a-f]{2}4[01]', 'i'],
      ['error|warning', ''],
      ['^a.*b', 's'],
      ['[(|*]x', ''],
    ] as const) {
      const r = compileLinearRegex(source, flags);
      assert.ok(r.ok && r.value.engine === 'native', source);
      const re2 = compileLinearRegex(`(?s:)${source}`, flags); // an empty flag group: RE2 only
      assert.ok(re2.ok && re2.value.engine === 're2', source);
      for (const x of inputs) assert.equal(r.value.test(x), re2.value.test(x), `${source} on ${x}`);
    }
  });

  test('refusals say why', () => {
    const r = compileLinearRegex('(a)\\1', '');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /backreferences and lookaround/);
  });
});

describe('native RegExp only where both engines read the pattern alike', () => {
  const rows = [
    '^\\Qa.b\\E', // RE2 quoting; RegExp would read `Qa.bE`
    '^[[:digit:]]x', // POSIX class
    '^[^]a]', // `[^]` is "anything" to RegExp only
    '^a\\sb', // `\s` is Unicode-wide in RegExp
  ];
  for (const source of rows)
    test(`${source} runs on RE2`, () => {
      assert.equal(nativeIsLinear(source, ''), false);
      const r = compileLinearRegex(source, '');
      assert.ok(r.ok && r.value.engine === 're2');
    });
});
