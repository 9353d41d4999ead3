/**
 * The condition grammar (rules specification "Condition"): and/or/not, parentheses, `1 of`,
 * `all of`, `them` and identifier patterns, precedence or < and < not < x of < ( ), a list of
 * conditions OR-linked, and the errors for what is not a condition.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCondition } from '../../../protocols/sigma/index.ts';
import { detects } from './helpers.ts';

/** Identifiers a, b, c, sel_1, sel_2, _hidden as tests on fields of the same name being "1". */
function holds(condition: string | string[], truth: Record<string, boolean>): boolean {
  const ids = ['a', 'b', 'c', 'sel_1', 'sel_2', 'filter_x', '_hidden'];
  const det: Record<string, unknown> = { condition };
  for (const id of ids) det[id] = { [id]: '1' };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(truth)) if (v) fields[k] = '1';
  return detects(det, { fields });
}

describe('condition semantics', () => {
  const rows: Array<[string | string[], Record<string, boolean>, boolean]> = [
    ['a', { a: true }, true],
    ['a and b', { a: true }, false],
    ['a or b', { b: true }, true],
    ['not a', {}, true],
    ['not a', { a: true }, false],
    // precedence: and binds tighter than or
    ['a or b and c', { a: true }, true],
    ['a or b and c', { b: true }, false],
    ['(a or b) and c', { a: true }, false],
    ['(a or b) and c', { a: true, c: true }, true],
    // not binds tighter than and/or
    ['not a and b', { b: true }, true],
    ['not a and b', { a: true, b: true }, false],
    ['not (a and b)', { a: true }, true],
    ['not not a', { a: true }, true],
    // x of binds tighter than not
    ['not 1 of sel_*', { sel_2: true }, false],
    ['not 1 of sel_*', {}, true],
    ['1 of sel_*', { sel_1: true }, true],
    ['all of sel_*', { sel_1: true }, false],
    ['all of sel_*', { sel_1: true, sel_2: true }, true],
    ['1 of sel*', { sel_2: true }, true],
    ['1 of *_x', { filter_x: true }, true],
    ['1 of them', { _hidden: true }, false],
    ['1 of them', { c: true }, true],
    ['all of them', { a: true, b: true, c: true, sel_1: true, sel_2: true, filter_x: true }, true],
    ['1 of _hid*', { _hidden: true }, true],
    ['2 of sel_*', { sel_1: true }, false],
    ['2 of sel_*', { sel_1: true, sel_2: true }, true],
    ['a and not 1 of filter*', { a: true, filter_x: true }, false],
    [['a', 'b'], { b: true }, true],
    [['a', 'b'], { c: true }, false],
    ['((((a))))', { a: true }, true],
  ];
  for (const [cond, truth, expected] of rows) {
    test(`${JSON.stringify(cond)} with ${JSON.stringify(truth)} → ${expected}`, () =>
      assert.equal(holds(cond, truth), expected));
  }
  test('keywords are case-insensitive: AND, Or, NOT, All Of, THEM', () => {
    assert.equal(holds('a AND NOT b', { a: true }), true);
    assert.equal(holds('a Or b', { b: true }), true);
    assert.equal(holds('All Of sel_*', { sel_1: true, sel_2: true }), true);
    assert.equal(holds('1 OF THEM', { a: true }), true);
  });
});

describe('condition syntax errors', () => {
  const bad = [
    '',
    '   ',
    'a and',
    'and a',
    '(a',
    'a)',
    'a b',
    '1 of',
    'all of (a)',
    '3x of a*',
    'a or or b',
    'not',
    'a* and b',
    '()',
    'a | count() > 3',
  ];
  for (const text of bad)
    test(JSON.stringify(text), () => {
      const r = parseCondition(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.ok(['invalid_condition', 'unsupported'].includes(r.error.code), r.error.message);
    });
  test('errors say where', () => {
    const r = parseCondition('sel and (a or');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, /end of the condition/);
    const r2 = parseCondition('sel xx');
    if (!r2.ok) assert.match(r2.error.message, /column 5/);
  });
  test('nesting is bounded, not a stack overflow', () => {
    const r = parseCondition(`${'('.repeat(5000)}a${')'.repeat(5000)}`);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, /nesting deeper/);
    const n = parseCondition(`${'not '.repeat(5000)}a`);
    assert.equal(n.ok, false);
  });
  test('the AST', () => {
    assert.deepEqual(parseCondition('a or b and not 1 of c*'), {
      ok: true,
      value: {
        t: 'or',
        items: [
          { t: 'id', name: 'a' },
          {
            t: 'and',
            items: [
              { t: 'id', name: 'b' },
              { t: 'not', item: { t: 'of', count: 1, pattern: 'c*' } },
            ],
          },
        ],
      },
    });
  });
});
