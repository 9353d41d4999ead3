/**
 * Folding alerts into incidents (central/incidents/grouping.ts), as properties: the partition is
 * the same whatever order the hits arrive in, and equals the runs of each attacker's sorted times
 * split where the gap exceeds the window; two attackers never share an incident; the in-memory
 * folder never keeps more than its bound; the attacker of an alert does not depend on its events'
 * order and is the address before the user.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Attacker,
  attackerKey,
  attackerOf,
  decide,
  IncidentFolder,
} from '../../../central/incidents/grouping.ts';

const WINDOW = 60_000;
const attackerArb: fc.Arbitrary<Attacker> = fc.record({
  kind: fc.constantFrom('address' as const, 'user' as const),
  value: fc.constantFrom('10.0.0.66', '10.0.0.67', 'admin', 'root'),
});
/** Hits with distinct alert ids: [alertId, attacker, atMs]. */
const hitsArb = fc
  .array(fc.tuple(attackerArb, fc.integer({ min: 0, max: 20 * WINDOW })), { maxLength: 60 })
  .map((hits) => hits.map(([a, t], i) => [i + 1, a, t] as const));

function fold(hits: ReadonlyArray<readonly [number, Attacker, number]>, max = 10_000) {
  const folder = new IncidentFolder({ windowMs: WINDOW, maxIncidents: max });
  for (const [id, a, t] of hits) folder.add(id, a, t);
  return folder;
}

/** The expected partition: per attacker, sorted times split where the gap exceeds the window. */
function runs(hits: ReadonlyArray<readonly [number, Attacker, number]>): number[][] {
  const byKey = new Map<string, Array<[number, number]>>();
  for (const [id, a, t] of hits) {
    const list = byKey.get(attackerKey(a)) ?? [];
    list.push([t, id]);
    byKey.set(attackerKey(a), list);
  }
  const out: number[][] = [];
  for (const list of byKey.values()) {
    list.sort((x, y) => x[0] - y[0]);
    let run: number[] = [];
    let last = Number.NEGATIVE_INFINITY;
    for (const [t, id] of list) {
      if (t - last > WINDOW && run.length > 0) {
        out.push(run.sort((a, b) => a - b));
        run = [];
      }
      run.push(id);
      last = t;
    }
    if (run.length > 0) out.push(run.sort((a, b) => a - b));
  }
  return out.sort((a, b) => a[0]! - b[0]!);
}

describe('incident folding', () => {
  it('is order-independent within the window: any arrival order gives the runs of sorted times', () => {
    fc.assert(
      fc.property(
        hitsArb.chain((hits) =>
          fc.tuple(fc.constant(hits), fc.shuffledSubarray(hits, { minLength: hits.length })),
        ),
        ([hits, shuffled]) => {
          const expected = runs(hits);
          assert.deepEqual(fold(hits).partition(), expected);
          assert.deepEqual(fold(shuffled).partition(), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never merges different attackers', () => {
    fc.assert(
      fc.property(hitsArb, (hits) => {
        const keyOf = new Map(hits.map(([id, a]) => [id, attackerKey(a)]));
        for (const members of fold(hits).partition())
          assert.equal(new Set(members.map((id) => keyOf.get(id))).size, 1, `mixed: ${members.join(',')}`);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps at most maxIncidents open incidents, however many attackers', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 100 * WINDOW })), { maxLength: 200 }),
        (max, hits) => {
          const folder = new IncidentFolder({ windowMs: WINDOW, maxIncidents: max });
          hits.forEach(([ip, t], i) => {
            folder.add(i + 1, { kind: 'address', value: ip }, t);
            assert.ok(folder.size <= max, `${folder.size} > ${max}`);
          });
        },
      ),
    );
  });

  it('decide: joins the oldest touched incident and absorbs the others, opens when none is touched', () => {
    const spans = [
      { id: 7, firstMs: 0, lastMs: 1000 },
      { id: 3, firstMs: 1000 + 2 * WINDOW, lastMs: 2000 + 2 * WINDOW },
    ];
    assert.deepEqual(decide(spans, 1000 + WINDOW, WINDOW), { kind: 'join', target: 3, absorb: [7] });
    assert.deepEqual(decide(spans, 500 + WINDOW, WINDOW), { kind: 'join', target: 7, absorb: [] });
    assert.deepEqual(decide(spans, 2001 + 3 * WINDOW, WINDOW), { kind: 'open' });
    assert.deepEqual(decide([], 0, WINDOW), { kind: 'open' });
  });
});

describe('attackerOf', () => {
  it('prefers the most frequent address, then the most frequent user, whatever the order', () => {
    const evidence = fc.array(
      fc.record({
        src_ip: fc.option(fc.constantFrom('10.0.0.1', '10.0.0.2'), { nil: null }),
        user: fc.option(fc.constantFrom('admin', 'root'), { nil: null }),
      }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(
        evidence.chain((e) => fc.tuple(fc.constant(e), fc.shuffledSubarray(e, { minLength: e.length }))),
        ([events, shuffled]) => {
          const a = attackerOf(events);
          assert.deepEqual(attackerOf(shuffled), a);
          if (events.some((e) => e.src_ip)) assert.equal(a?.kind, 'address');
          else if (events.some((e) => e.user)) assert.equal(a?.kind, 'user');
          else assert.equal(a, undefined);
        },
      ),
    );
  });

  it('reads the client address behind rotating client ids and user names', () => {
    const events = Array.from({ length: 16 }, (_, i) => ({ src_ip: '127.0.0.66', user: `u${i}` }));
    assert.deepEqual(attackerOf(events), { kind: 'address', value: '127.0.0.66' });
    assert.deepEqual(attackerOf([{ src_ip: ' ', user: 'admin' }]), { kind: 'user', value: 'admin' });
  });
});
