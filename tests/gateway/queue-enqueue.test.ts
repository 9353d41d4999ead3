/**
 * The queue's `enqueue` (issue 18): events are encoded into their records when appended, byte for
 * byte what `JSON.stringify` makes of the identified event; an append whose encoding throws leaves
 * nothing behind; the ids come back at once and are those stored; and no event object is kept
 * while the write waits for its fsync, so events die young instead of reaching V8's old space.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { LevelQueue } from '../../gateway/queue/leveldb-queue.ts';
import { identify, RecordPacker } from '../../gateway/queue/pack.ts';
import { LANES, laneOf } from '../../gateway/queue/types.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const open = (maxRecordEvents = 100, flushIntervalMs = 2) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'queue-enqueue-'));
  dirs.push(dir);
  return LevelQueue.open({ dir, gateway: 'gw-e', maxRecordEvents, flushIntervalMs, sync: true });
};

const text = fc.string({ unit: 'binary', maxLength: 20 });
/** Pending events as sources make them, and odd ones: identity members of their own, a toJSON. */
const pendingEvent = fc
  .record(
    {
      ts: text,
      received: text,
      source: fc.constantFrom('syslog', 'mqtt', 'gateway'),
      kind: fc.constantFrom('telemetry', 'security', 'health', 'alert'),
      action: text,
      severity: fc.integer({ min: 0, max: 7 }),
      message: text,
      fields: fc.dictionary(text, fc.oneof(text, fc.double(), fc.boolean(), fc.constant(null)), {
        maxKeys: 4,
      }),
      tags: fc.array(fc.oneof(text, fc.constantFrom('lane:alert', 'lane:telemetry')), { maxLength: 3 }),
      id: text,
      seq: fc.integer(),
      v: fc.constant(undefined),
      clock_offset_ms: fc.double(),
      toJSON: fc.constant(() => ({ replaced: true })),
    },
    { requiredKeys: ['ts', 'received', 'source', 'kind', 'action', 'severity', 'message', 'fields', 'tags'] },
  )
  .map((e) => e as unknown as PendingEvent);

describe('queue enqueue', () => {
  it('writes each record as JSON.stringify of its identified events, whatever the event', () => {
    fc.assert(
      fc.property(
        fc.array(pendingEvent, { maxLength: 12 }),
        fc.option(fc.double(), { nil: undefined }),
        fc.integer({ min: 1, max: 5 }),
        (events, offset, max) => {
          const packer = new RecordPacker('gw-é"x', max);
          events.forEach((e, k) => packer.add(e, 100 + k, offset));
          const records = packer.take();
          const expected = events.map((e, k) => identify(e, 'gw-é"x', 100 + k, offset));
          for (const lane of LANES) {
            const mine = records.filter((r) => r.lane === lane);
            const ofLane = expected.filter((e) => laneOf(e) === lane);
            // The lane's records, in order, hold its events: `count` each, at most `max`.
            assert.deepEqual(
              mine.map((r) => r.count),
              mine.map((_, i) => Math.min(max, ofLane.length - i * max)),
            );
            const texts = mine.map((r) => Buffer.from(r.data).toString('utf8').slice(1, -1));
            assert.equal(`[${texts.join(',')}]`, JSON.stringify(ofLane));
            for (const r of mine) assert.equal(r.bytes, r.data.length);
          }
        },
      ),
    );
  });

  it('an append whose encoding throws leaves the open records as they were', async () => {
    const queue = await open(3);
    const ok = (m: string): PendingEvent => ({
      ts: '2026-12-01T00:00:00.000Z',
      received: '2026-12-01T00:00:00.000Z',
      source: 'syslog',
      kind: 'telemetry',
      action: 'syslog.message',
      severity: 6,
      message: m,
      fields: {},
      tags: [],
    });
    const first = queue.enqueue([ok('a'), ok('b')]);
    // The third event closes a record of three; the fourth cannot be encoded (a BigInt).
    const bad = { ...ok('d'), fields: { n: 1n } } as unknown as PendingEvent;
    assert.throws(() => queue.enqueue([ok('c'), bad]), /BigInt/);
    const last = queue.enqueue([ok('e')]);
    await Promise.all([first.durable, last.durable]);
    assert.deepEqual([...first.ids, ...last.ids], ['gw-e:1', 'gw-e:2', 'gw-e:3']);
    const stored = (await queue.read('telemetry', null, 10)).flatMap((r) => r.events);
    assert.deepEqual(
      stored.map((e) => [e.id, e.message]),
      [
        ['gw-e:1', 'a'],
        ['gw-e:2', 'b'],
        ['gw-e:3', 'e'],
      ],
    );
    await queue.close();
  });

  it('gives the stored ids at once and keeps no event object while the write waits', async () => {
    // A 300 ms group-commit window: the write is certainly still waiting when the collector runs.
    const queue = await open(100, 300);
    let ref: WeakRef<object> | undefined;
    const { ids, durable } = (() => {
      const event: PendingEvent = {
        ts: '2026-12-01T00:00:00.000Z',
        received: '2026-12-01T00:00:00.000Z',
        source: 'syslog',
        kind: 'security',
        action: 'syslog.message',
        severity: 4,
        message: 'kept?',
        fields: { big: 'x'.repeat(1000) },
        tags: [],
      };
      ref = new WeakRef(event);
      return queue.enqueue([event], { clockOffsetMs: 5 });
    })();
    // A WeakRef's target lives until the end of the current job: collect in the next one.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(ref!.deref(), undefined, 'the event was collected before it was durable');
    await durable;
    const [stored] = (await queue.read('security', null, 1)).flatMap((r) => r.events);
    assert.equal(stored?.id, ids.at(0));
    assert.equal(stored?.clock_offset_ms, 5);
    assert.equal(stored?.message, 'kept?');
    await queue.close();
  });
});
