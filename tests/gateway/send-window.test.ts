/**
 * The forwarder's send window under central's rate limit (link SPEC §4.9): after an ack's
 * `delay_ms` the window reopens when the wait is over, even when the timer fires before
 * `Date.now()` reaches the end of the pause (a timer counts from the event loop's cached time).
 * Before the fix the resume ran early, `open()` refused, nothing pumped again and the link
 * stalled (the flow-control integration test timed out in CI).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SendWindow } from '../../gateway/forwarder/send-window.ts';
import { createGatewayMetrics } from '../../gateway/metrics.ts';

it('reopens when the pause is over, even when the timer fires early by the wall clock', (t) => {
  let now = 1_000_000;
  t.mock.method(Date, 'now', () => now);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const window = new SendWindow(4, createGatewayMetrics('gw-test', { processMetrics: false }));
  const resumes: boolean[] = [];
  const resume = () => resumes.push(window.open(Date.now()));

  window.pause(500, resume);
  assert.equal(window.open(now), false);
  // The timer fires after 500 ms of loop time, while the wall clock shows only 498.
  now += 498;
  t.mock.timers.tick(500);
  assert.deepEqual(resumes, [], 'no resume while the window is still closed');
  now += 2;
  t.mock.timers.tick(2);
  assert.deepEqual(resumes, [true], 'one resume, into an open window');

  // A later, longer pause wins over an earlier shorter one, and resumes once.
  window.pause(100, resume);
  window.pause(300, resume);
  now += 300;
  t.mock.timers.tick(300);
  assert.deepEqual(resumes, [true, true]);
});

it('a reset drops the pause and its timer', (t) => {
  let now = 5_000;
  t.mock.method(Date, 'now', () => now);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const window = new SendWindow(4, createGatewayMetrics('gw-test', { processMetrics: false }));
  let resumed = 0;
  window.pause(1_000, () => resumed++);
  window.reset();
  assert.equal(window.open(now), true);
  now += 1_000;
  t.mock.timers.tick(1_000);
  assert.equal(resumed, 0);
});

it('a batch central holds (SPEC §4.8) leaves its place in the window, up to max_in_flight such', () => {
  const window = new SendWindow(2, createGatewayMetrics('gw-test', { processMetrics: false }));
  const batch = { records: [], events: 1 };
  // A link that dropped a batch in flight comes back with a window of one.
  window.add(1, batch);
  window.reset();
  assert.equal(window.window(), 1);
  window.add(1, batch);
  assert.equal(window.open(0), false);
  window.hold(1);
  assert.equal(window.open(0), true, 'the held batch does not count');
  window.hold(99);
  window.add(2, batch);
  assert.equal(window.open(0), false, 'an unknown batch id holds nothing');
  window.hold(2);
  window.add(3, batch);
  window.hold(3);
  assert.equal(window.open(0), false, 'no more held batches than max_in_flight');
  // The ack of 1 ends the slow start (a window of two) and frees a place among the held: 2 still
  // is held, 3 counts.
  window.settle(1, batch);
  assert.equal(window.window(), 2);
  assert.equal(window.open(0), true);
  window.add(4, batch);
  assert.equal(window.open(0), false, '3 and 4 fill the window of two');
  window.hold(4);
  assert.equal(window.open(0), true, 'one place among the held was free');
});
