/**
 * The broker's counters (rates.ts) and brute-force blocker (blocker.ts), on a passed-in clock:
 * per-address counting survives a flood of fresh client ids (issue 15 item 5: one shared
 * 50,000-key table used to stop counting once full), and blocks back off (double, cap, reset).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBlocker } from '../../../../gateway/sources/mqtt-broker/blocker.ts';
import { createRateTracker } from '../../../../gateway/sources/shared-mqtt-rates.ts';

const at = (ms: number) => new Date(Date.parse('2024-06-01T00:00:00Z') + ms);

describe('rate tracker', () => {
  it('keeps counting per address under a flood of unique client ids', () => {
    const rates = createRateTracker({ windowSecs: 60, maxKeys: 1000 });
    const now = at(0);
    // A flood from one address with a fresh client id and user name each time fills the tables...
    for (let i = 0; i < 5000; i++) {
      rates.hit('auth_failures', 'src_ip', '10.0.0.1', 5, now, `flood-${i}`);
      rates.hit('auth_failures', 'client_id', `flood-${i}`, 5, now);
      rates.hit('auth_failures', 'username', `user-${i}`, 5, now);
    }
    // ...and a second attacker, appearing only now, is still counted and crosses.
    const crossings = [];
    for (let i = 0; i < 6; i++) {
      rates.hit('auth_failures', 'client_id', `bot-${i}`, 5, now);
      crossings.push(rates.hit('auth_failures', 'src_ip', '10.0.0.2', 5, now, `bot-${i}`));
    }
    assert.equal(rates.count('auth_failures', 'src_ip', '10.0.0.2', now), 6);
    const c = crossings[5];
    assert.ok(c, 'the sixth failure crosses');
    assert.equal(c.distinctClientIds, 6);
    assert.equal(rates.count('auth_failures', 'src_ip', '10.0.0.1', now), 5000);
    const size = rates.size();
    assert.ok(size.keys.client_id! <= 1000 && size.keys.username! <= 1000, 'bounded per key type');
    assert.ok(size.evicted > 0);
  });

  it('evicts the least recently counted key, not the active one', () => {
    const rates = createRateTracker({ windowSecs: 60, maxKeys: 10 });
    const now = at(0);
    for (let i = 0; i < 100; i++) {
      rates.hit('auth_failures', 'src_ip', 'attacker', 1000, now);
      rates.hit('auth_failures', 'src_ip', `spoof-${i}`, 1000, now);
    }
    assert.equal(rates.count('auth_failures', 'src_ip', 'attacker', now), 100);
    assert.equal(rates.count('auth_failures', 'src_ip', 'spoof-0', now), 0);
  });
});

describe('blocker', () => {
  const opts = { maxFailures: 3, windowSecs: 60, blockSecs: 10, maxBlockSecs: 25, resetSecs: 3600 };

  it('blocks after maxFailures in a window, doubling each time up to the cap', () => {
    const b = createBlocker(opts);
    let t = 0;
    const secs: number[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) assert.equal(b.failure('a', at(t)), undefined);
      const block = b.failure('a', at(t));
      assert.ok(block);
      assert.equal(block.level, round + 1);
      secs.push(block.secs);
      assert.ok(b.blockedUntil('a', at(t + block.secs * 1000 - 1)));
      assert.equal(b.blockedUntil('a', at(t + block.secs * 1000)), undefined);
      assert.equal(b.blockedUntil('other', at(t)), undefined);
      t += block.secs * 1000;
    }
    assert.deepEqual(secs, [10, 20, 25, 25]);
  });

  it('forgets failures outside the window and blocks after resetSecs start over', () => {
    const b = createBlocker(opts);
    for (let i = 0; i < 3; i++) b.failure('a', at(0));
    assert.equal(b.failure('a', at(60_000)), undefined, 'a new window');
    for (let i = 0; i < 2; i++) b.failure('a', at(60_000));
    assert.equal(b.failure('a', at(60_000))?.level, 1);
    const later = 60_000 + 10_000 + 3_600_000;
    for (let i = 0; i < 3; i++) b.failure('a', at(later));
    assert.equal(b.failure('a', at(later))?.secs, 10, 'level reset after block_reset_secs');
  });

  it('block_secs 0 only detects', () => {
    const b = createBlocker({ ...opts, blockSecs: 0 });
    for (let i = 0; i < 10; i++) assert.equal(b.failure('a', at(0)), undefined);
    assert.equal(b.blockedUntil('a', at(0)), undefined);
  });

  it('holds a bounded number of addresses', () => {
    const b = createBlocker({ ...opts, maxAddresses: 100 });
    for (let i = 0; i < 1000; i++) b.failure(`10.0.${i >> 8}.${i & 255}`, at(0));
    assert.equal(b.size(), 100);
  });
});
