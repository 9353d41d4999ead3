/**
 * RecencyMap against a plain model of least-recently-used order (an array, newest last), over any
 * sequence of uses, sets, deletes and evictions: the same values, the same order, the same oldest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RecencyMap } from '../../../protocols/event/recency.ts';

type Op =
  { op: 'use' | 'delete' | 'get'; key: number } | { op: 'set'; key: number; value: number } | { op: 'evict' };

const key = fc.integer({ min: 0, max: 7 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('use' as const, 'delete' as const, 'get' as const), key }),
  fc.record({ op: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ op: fc.constant('evict' as const) }),
);

describe('RecencyMap', () => {
  it('keeps exact least-recently-used order, as a model does', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const map = new RecencyMap<number, number>();
        let model: Array<[number, number]> = [];
        const at = (k: number) => model.findIndex(([mk]) => mk === k);
        for (const o of ops) {
          if (o.op === 'set') {
            model = model.filter(([mk]) => mk !== o.key).concat([[o.key, o.value]]);
            assert.equal(map.set(o.key, o.value), map);
          } else if (o.op === 'use') {
            const i = at(o.key);
            const expected = i < 0 ? undefined : model[i]![1];
            if (i >= 0) model = model.filter((_, j) => j !== i).concat([model[i]!]);
            assert.equal(map.use(o.key), expected);
          } else if (o.op === 'get') {
            const i = at(o.key);
            assert.equal(map.get(o.key), i < 0 ? undefined : model[i]![1]);
            assert.equal(map.has(o.key), i >= 0);
          } else if (o.op === 'delete') {
            const i = at(o.key);
            if (i >= 0) model = model.filter((_, j) => j !== i);
            assert.equal(map.delete(o.key), i >= 0);
          } else {
            assert.deepEqual(map.oldest(), model[0]);
            assert.deepEqual(map.evictOldest(), model.shift());
          }
          assert.equal(map.size, model.length);
        }
        assert.deepEqual([...map], model);
        assert.deepEqual(
          [...map.values()],
          model.map(([, v]) => v),
        );
        assert.deepEqual(map.oldest(), model[0]);
      }),
      { numRuns: 500 },
    );
  });

  it('empties and fills again', () => {
    const map = new RecencyMap<string, number>();
    map.set('a', 1).set('b', 2);
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(map.evictOldest(), undefined);
    assert.deepEqual([...map], []);
    map.set('c', 3);
    map.set('a', 1);
    map.use('c');
    assert.deepEqual(
      [...map],
      [
        ['a', 1],
        ['c', 3],
      ],
    );
  });
});
