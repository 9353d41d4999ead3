/**
 * Sigma correlations across a restart: a snapshot of the groups in progress restored into a new
 * engine keeps counting with the same window edges; a changed correlation starts empty, damaged
 * snapshots are skipped, and snapshots are bounded.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Event } from '../../../protocols/event/schema.ts';
import { T0, S, base, engineFor, ev, run, corr } from './correlation-fixtures.ts';

describe('restart recovery (snapshot and restore)', () => {
  const brute = `title: brute\nid: brute\ncorrelation: {type: event_count, rules: [fail], group-by: [peer], timespan: 1m, condition: {gte: 5}}\nlevel: high\n`;
  const f = (peer = '192.0.2.1') => ev('fail', { peer });

  test('a brute force in progress (3 of 5) survives a restart: 2 more failures alert', () => {
    const before = engineFor([base('fail'), brute]);
    assert.deepEqual(
      corr(
        run(
          before,
          [0, 1, 2].map((i) => [T0 + i * S, f()] as [number, Event]),
        ),
      ),
      [],
    );
    // What the gateway writes to disk and reads back at start.
    const saved = JSON.parse(JSON.stringify(before.snapshot()));
    const after = engineFor([base('fail'), brute]);
    assert.deepEqual(after.restore(saved), { restored: 1, skipped: 0 });
    const out = corr(
      run(
        after,
        [3, 4].map((i) => [T0 + i * S, f()] as [number, Event]),
      ),
    );
    assert.equal(out.length, 1);
    assert.equal(out[0]!.correlation!.value, 5);
    assert.equal(out[0]!.event_ids.length, 5, 'the events from before the restart are named too');
    // Without the snapshot, the same two failures are not enough.
    const fresh = engineFor([base('fail'), brute]);
    assert.deepEqual(
      corr(
        run(
          fresh,
          [3, 4].map((i) => [T0 + i * S, f()] as [number, Event]),
        ),
      ),
      [],
    );
  });

  test('window edges still hold after a restore: failures older than the timespan do not count', () => {
    const before = engineFor([base('fail'), brute]);
    run(
      before,
      [0, 1, 2].map((i) => [T0 + i * S, f()] as [number, Event]),
    );
    const after = engineFor([base('fail'), brute]);
    after.restore(JSON.parse(JSON.stringify(before.snapshot())));
    const late = corr(
      run(
        after,
        [61, 62].map((i) => [T0 + i * S, f()] as [number, Event]),
      ),
    );
    assert.deepEqual(late, []);
  });

  test('a changed correlation starts empty; damaged snapshots are skipped, never thrown', () => {
    const before = engineFor([base('fail'), brute]);
    run(before, [[T0, f()]]);
    const changed = engineFor([base('fail'), brute.replace('gte: 5', 'gte: 6')]);
    assert.deepEqual(changed.restore(before.snapshot()), { restored: 0, skipped: 1 });
    const e = engineFor([base('fail'), brute]);
    for (const junk of [null, 42, 'x', { v: 2 }, { v: 1, correlations: [null, { key: 1 }] }])
      assert.deepEqual(e.restore(junk), { restored: 0, skipped: 0 });
    const snap = before.snapshot();
    (snap.correlations[0]!.groups[0] as unknown as Record<string, unknown>).times = 'bad';
    assert.deepEqual(e.restore(snap), { restored: 0, skipped: 1 });
  });

  test('snapshots are bounded to the most recent groups per correlation', () => {
    const e = engineFor([base('fail'), brute]);
    for (let i = 0; i < 50; i++) e.process(f(`10.0.0.${i}`), T0 + i);
    const snap = e.snapshot(10);
    assert.equal(snap.correlations[0]!.groups.length, 10);
    assert.deepEqual(snap.correlations[0]!.groups[9]!.group, { peer: '10.0.0.49' });
  });
});
