/**
 * The eviction cursor (protocols/event/evict.ts) against a model: whatever mix of inserts,
 * re-inserts (least-recently-used touches), deletes, clears, peeks and evictions, it shows and
 * evicts exactly the entry a fresh `keys().next()` would, for a Map and for a Set.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EvictionCursor } from '../../../protocols/event/evict.ts';

const opArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 7 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('touch' as const), key: fc.integer({ min: 0, max: 7 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 7 }) }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('evict' as const) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('peek' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
);

describe('EvictionCursor', () => {
  test('peeks and evicts what a fresh iterator would, in every interleaving (Map and Set)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const map = new Map<number, string>();
        const set = new Set<number>();
        const mapCursor = new EvictionCursor(map);
        const setCursor = new EvictionCursor(set);
        let model: number[] = [];
        for (const o of ops) {
          if (o.op === 'set' || o.op === 'touch') {
            if (o.op === 'touch') {
              map.delete(o.key);
              set.delete(o.key);
              model = model.filter((k) => k !== o.key);
            }
            const fresh = !map.has(o.key);
            map.set(o.key, `v${o.key}`);
            set.add(o.key);
            // The contract: a key set after being deleted is reported (it may be the peeked one).
            if (fresh) {
              mapCursor.moved(o.key);
              setCursor.moved(o.key);
            }
            if (!model.includes(o.key)) model.push(o.key);
          } else if (o.op === 'peek') {
            const expected = model[0];
            assert.deepEqual(
              mapCursor.peek(),
              expected === undefined ? undefined : [expected, `v${expected}`],
            );
            assert.deepEqual(setCursor.peek(), expected === undefined ? undefined : [expected, expected]);
          } else if (o.op === 'delete') {
            map.delete(o.key);
            set.delete(o.key);
            model = model.filter((k) => k !== o.key);
          } else if (o.op === 'clear') {
            map.clear();
            set.clear();
            model = [];
          } else {
            const expected = model.shift();
            assert.deepEqual(
              mapCursor.evict(),
              expected === undefined ? undefined : [expected, `v${expected}`],
            );
            assert.deepEqual(setCursor.evict(), expected === undefined ? undefined : [expected, expected]);
          }
          assert.deepEqual([...map.keys()], model);
          assert.deepEqual([...set], model);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('steady eviction from a full map keeps it bounded and evicts oldest first', () => {
    const map = new Map<number, number>();
    const cursor = new EvictionCursor(map);
    const evicted: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      map.set(i, i);
      if (map.size > 1_000) evicted.push(cursor.evict()![0]);
    }
    assert.equal(map.size, 1_000);
    assert.deepEqual(
      evicted,
      Array.from({ length: 49_000 }, (_, i) => i),
    );
    assert.deepEqual(
      [...map.keys()],
      Array.from({ length: 1_000 }, (_, i) => 49_000 + i),
    );
  });
});

test('peek shows the oldest without removing it, and follows deletions made elsewhere', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('add' as const) }),
          fc.record({ op: fc.constant('peek' as const) }),
          fc.record({ op: fc.constant('evict' as const) }),
          fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
        ),
        { maxLength: 200 },
      ),
      (ops) => {
        // Objects added once, as the alert grouper uses it.
        const set = new Set<{ n: number }>();
        const cursor = new EvictionCursor(set);
        let next = 0;
        for (const o of ops) {
          const model = [...set];
          if (o.op === 'add') set.add({ n: next++ });
          else if (o.op === 'delete') {
            if (model.length > 0) set.delete(model[o.at % model.length]!);
          } else if (o.op === 'peek') assert.equal(cursor.peek()?.[0], model[0]);
          else {
            assert.equal(cursor.evict()?.[0], model[0]);
            assert.deepEqual([...set], model.slice(1));
          }
        }
      },
    ),
    { numRuns: 500 },
  );
});
