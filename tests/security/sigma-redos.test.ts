/**
 * Issue 15 item 3, ReDoS: a Sigma rule's regex (or `?` wildcard) must not let one crafted field
 * freeze detection. With JavaScript's backtracking RegExp, `message|re: '(a+)+$'` against 28
 * characters took seconds and `*a*a*a*a?b` against 1,000 characters minutes. Each evil pattern is
 * first run on an input that took over a second before the fix (so a regression fails fast rather
 * than hanging), then on a 100 KB one. Also: patterns RE2 cannot run are refused naming the rule
 * and field, and values are matched on their first MAX_REGEX_INPUT_CHARS characters.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileRuleSet, loadSigma } from '../../protocols/sigma/index.ts';
import { MAX_REGEX_INPUT_CHARS } from '../../protocols/sigma/regex.ts';
import { makeEvent } from '../protocols/sigma/helpers.ts';

function ruleSet(item: string) {
  const loaded = loadSigma(
    `title: analyst rule\nid: evil-1\nlogsource: {product: syslog}\ndetection:\n  sel: {${item}}\n  condition: sel\n`,
  );
  assert.deepEqual(loaded.errors, []);
  return compileRuleSet(loaded.rules, {});
}

/** Milliseconds to match one syslog event carrying `message`, and whether it matched. */
function timeMatch(item: string, message: string): { ms: number; matched: boolean } {
  const set = ruleSet(item);
  assert.deepEqual(set.errors, [], `${item} should compile`);
  const event = makeEvent({ message });
  const t0 = performance.now();
  const matched = set.match(event).length === 1;
  return { ms: performance.now() - t0, matched };
}

const EVIL: Array<{ item: string; input: (n: number) => string; small: number }> = [
  { item: "message|re: '(a+)+$'", input: (n) => 'a'.repeat(n) + '!', small: 28 },
  { item: "message|re: '(a|aa)+$'", input: (n) => 'a'.repeat(n) + '!', small: 36 },
  { item: "message|re: '^(\\w+\\s?)*$'", input: (n) => 'a'.repeat(n) + '!', small: 28 },
  { item: "message|re|i: '(x+x+)+y'", input: (n) => 'x'.repeat(n), small: 28 },
  // Polynomial, not exponential: `[^]*a[^]*a[^]*a.b` backtracks O(n^4).
  { item: "message: '*a*a*a*a?b'", input: (n) => 'a'.repeat(n), small: 400 },
  // Quadratic: every start position scans to the end.
  { item: "message|re: 'x.*y'", input: (n) => 'x'.repeat(n), small: 100_000 },
];

describe('Sigma regexes run in linear time', () => {
  for (const { item, input, small } of EVIL)
    test(`${item}: a crafted line is matched in milliseconds`, () => {
      // Before the fix each small input took over a second (28 chars of `(a+)+$`: 1.8–7 s here).
      const s = timeMatch(item, input(small));
      assert.ok(s.ms < 250, `${small} characters took ${s.ms.toFixed(0)} ms`);
      const big = timeMatch(item, input(100_000));
      assert.ok(big.ms < 500, `100 KB took ${big.ms.toFixed(0)} ms`);
      // Under the cap, so the whole crafted line is seen (100 KB is cut at 64 KiB, see below).
      const whole = timeMatch(item, input(60_000));
      assert.ok(whole.ms < 500, `60,000 characters took ${whole.ms.toFixed(0)} ms`);
      assert.equal(whole.matched, false);
    });

  test('the evil patterns still match what they describe', () => {
    assert.equal(timeMatch("message|re: '(a+)+$'", 'a'.repeat(100_000)).matched, true);
    assert.equal(timeMatch("message: '*a*a*a*a?b'", 'xaxaxaaacb').matched, true);
    assert.equal(timeMatch("message|re: 'x.*y'", 'x'.repeat(1000) + 'y').matched, true);
  });
});

describe('patterns without a linear-time engine are refused at load', () => {
  for (const pattern of ['(a)\\1', 'foo(?=bar)', 'foo(?!bar)', '(?<=x)y', '(?<!x)y'])
    test(`${pattern} is refused naming the rule and the field`, () => {
      const set = ruleSet(`message|re: '${pattern}'`);
      assert.equal(set.rules.length, 0);
      assert.equal(set.errors.length, 1);
      const e = set.errors[0]!;
      assert.equal(e.code, 'invalid_regex');
      assert.equal(e.rule, 'evil-1');
      assert.match(e.message, /evil-1/);
      assert.match(e.message, /message\|re/);
    });
});

describe('field length cap for regex matching', () => {
  test(`a value is matched on its first ${MAX_REGEX_INPUT_CHARS} characters`, () => {
    const pad = 'x'.repeat(MAX_REGEX_INPUT_CHARS);
    assert.equal(timeMatch("message|re: 'EV[I]L'", `EVIL${pad}`).matched, true);
    assert.equal(timeMatch("message|re: 'EV[I]L'", `${pad.slice(4)}EVIL${pad}`).matched, true);
    assert.equal(timeMatch("message|re: 'EV[I]L'", `${pad}EVIL`).matched, false);
    // Literal (non-regex) comparisons are linear anyway and see the whole value.
    assert.equal(timeMatch("message|contains: 'EVIL'", `${pad}EVIL`).matched, true);
  });

  test('sub-modifiers and inline flags keep working on the linear engine', () => {
    assert.equal(timeMatch("message|re|i: 'x.*EVIL'", 'x evil').matched, true);
    assert.equal(timeMatch("message|re: 'x.*EVIL'", 'x evil').matched, false);
    assert.equal(timeMatch("message|re: 'x.*(?i)EVIL'", 'x evil').matched, true);
    assert.equal(timeMatch("message|re|s: 'a.*b'", 'a\nb').matched, true);
    assert.equal(timeMatch("message|re: 'a.*b'", 'a\nb').matched, false);
    assert.equal(timeMatch("message|re|m: '^b.*c$'", 'a\nbxc\nd').matched, true);
  });
});
