/**
 * The emit gate both inline proxies hand their events through: at most `maxPendingEmits` emits
 * wait on the queue, what is decoded meanwhile gathers and goes with the next one, `behind()` is
 * the signal to stop reading, a forced flush (the connection is over) goes regardless, and a
 * failed emit neither throws nor wedges the gate. A property checks that for any interleaving of
 * decodes, flushes and settling emits, every event is handed over exactly once and in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { createGatewayMetrics } from '../../../../gateway/metrics.ts';
import type { SourceContext } from '../../../../gateway/pipeline/types.ts';
import { createEmitGate, MAX_PENDING_EMITS } from '../../../../gateway/sources/shared/emit-gate.ts';
import type { PendingEvent } from '../../../../protocols/event/schema.ts';

/** A context whose emits wait until the test settles them, oldest first. */
function heldContext() {
  const emits: Array<{ events: PendingEvent[]; resolve(): void; reject(e: Error): void }> = [];
  const ctx: SourceContext = {
    metrics: createGatewayMetrics('gw-test', { processMetrics: false }),
    logger: pino({ level: 'silent' }),
    now: () => new Date(),
    emit: (events) =>
      new Promise<void>((resolve, reject) => {
        emits.push({ events, resolve, reject });
      }),
  };
  return { ctx, emits };
}

const event = (n: number): PendingEvent => ({
  ts: new Date(0).toISOString(),
  received: new Date(0).toISOString(),
  source: 'modbus',
  kind: 'telemetry',
  action: 'test.event',
  severity: 6,
  message: String(n),
  fields: { n },
  tags: [],
});
const numbers = (events: PendingEvent[]) => events.map((e) => e.fields.n);
/** Lets the emit promises' handlers run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('two emits in flight at most; what is decoded meanwhile goes with the next one', async () => {
  const { ctx, emits } = heldContext();
  let settled = 0;
  const gate = createEmitGate(ctx, { onSettled: () => settled++ });
  gate.flush(); // nothing gathered: nothing emitted
  assert.equal(emits.length, 0);
  for (let n = 1; n <= 4; n++) {
    gate.events.push(event(n));
    gate.flush();
  }
  assert.equal(MAX_PENDING_EMITS, 2);
  assert.deepEqual(
    emits.map((e) => numbers(e.events)),
    [[1], [2]],
  );
  assert.deepEqual(numbers(gate.events), [3, 4], 'gathered while two emits wait');
  emits[0]!.resolve();
  await settle();
  assert.equal(settled, 1);
  assert.deepEqual(numbers(emits[2]!.events), [3, 4], 'handed on when one settled');
  assert.equal(gate.events.length, 0);
});

test('behind() once emits are at their limit and enough gathered; full() on the gathered count alone', async () => {
  const { ctx, emits } = heldContext();
  const gate = createEmitGate(ctx, { onSettled: () => {}, maxGatheredEvents: 3 });
  gate.events.push(event(1), event(2), event(3));
  assert.equal(gate.full(), true);
  assert.equal(gate.behind(), false, 'nothing in flight: not behind');
  gate.flush();
  gate.events.push(event(4));
  gate.flush();
  gate.events.push(event(5), event(6));
  assert.equal(gate.behind(), false, 'two in flight, two gathered');
  gate.events.push(event(7));
  assert.equal(gate.behind(), true);
  emits[0]!.resolve();
  await settle();
  assert.equal(gate.behind(), false);
  assert.deepEqual(numbers(emits[2]!.events), [5, 6, 7]);
});

test('a forced flush goes regardless; a failed emit is logged, not thrown, and frees its place', async () => {
  const { ctx, emits } = heldContext();
  let settled = 0;
  const gate = createEmitGate(ctx, { onSettled: () => settled++ });
  for (let n = 1; n <= 3; n++) {
    gate.events.push(event(n));
    gate.flush(true);
  }
  assert.equal(emits.length, 3, 'forced past the limit');
  emits[0]!.reject(new Error('queue full'));
  emits[1]!.reject(new Error('queue full'));
  await settle();
  assert.equal(settled, 2);
  gate.events.push(event(4));
  gate.flush();
  assert.deepEqual(numbers(emits[3]!.events), [4], 'one in flight: the next goes at once');
});

test('property: any interleaving hands every event over once, in order, with at most two unforced emits waiting', async () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('decode' as const), count: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('flush' as const), force: fc.boolean() }),
    fc.record({ kind: fc.constant('settle' as const), fail: fc.boolean() }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
      const { ctx, emits } = heldContext();
      let inFlight = 0;
      let maxUnforced = 0;
      const gate = createEmitGate(ctx, { onSettled: () => {} });
      let next = 0;
      let settledUpTo = 0;
      for (const o of ops) {
        if (o.kind === 'decode') for (let i = 0; i < o.count; i++) gate.events.push(event(next++));
        else if (o.kind === 'flush') {
          const before = emits.length;
          gate.flush(o.force);
          if (!o.force && emits.length > before) maxUnforced = Math.max(maxUnforced, inFlight + 1);
        } else if (settledUpTo < emits.length) {
          const e = emits[settledUpTo++]!;
          if (o.fail) e.reject(new Error('no'));
          else e.resolve();
          await settle();
        }
        inFlight = emits.length - settledUpTo;
      }
      gate.flush(true);
      const handed = emits.flatMap((e) => numbers(e.events));
      assert.deepEqual(
        handed,
        Array.from({ length: next }, (_, i) => i),
      );
      assert.ok(
        emits.every((e) => e.events.length > 0),
        'no empty emit',
      );
      assert.ok(maxUnforced <= MAX_PENDING_EMITS, `unforced emit made ${maxUnforced} wait`);
    }),
    { numRuns: 200 },
  );
});
