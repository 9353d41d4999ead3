/**
 * The LevelDB queue: appends get a durable, strictly increasing per-gateway sequence that
 * survives a restart; events are packed into records per lane; reads follow lane and sequence
 * order; only removed (acked) records go away.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { SEQ_KEY, STATS_KEY } from '../../gateway/queue/counters.ts';
import { type EvictionReport, LevelQueue, QueueFullError } from '../../gateway/queue/leveldb-queue.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { parseEvent } from '../../protocols/event/schema.ts';
import { STATE_PREFIX } from '../../gateway/queue/pack.ts';
import { recordKey } from '../../gateway/queue/records.ts';
import { LANES } from '../../gateway/queue/types.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-queue-'));
  dirs.push(dir);
  return dir;
}

function pending(message: string, kind: PendingEvent['kind'] = 'telemetry'): PendingEvent {
  const now = new Date().toISOString();
  return {
    ts: now,
    received: now,
    source: 'syslog',
    kind,
    action: 'syslog.message',
    severity: 6,
    message,
    fields: {},
    tags: [],
  };
}

const open = (dir: string, maxRecordEvents = 100) =>
  LevelQueue.open({ dir, gateway: 'gw-test', maxRecordEvents, flushIntervalMs: 2, sync: true });

describe('LevelDB queue', () => {
  it('assigns gateway, seq and id, and the events are valid', async () => {
    const queue = await open(tempDir());
    const [a, b] = await queue.append([pending('one'), pending('two')]);
    assert.equal(a?.seq, 1);
    assert.equal(b?.seq, 2);
    assert.equal(a?.id, 'gw-test:1');
    assert.equal(a?.gateway, 'gw-test');
    assert.ok(parseEvent(a).ok);
    await queue.close();
  });

  it('keeps the sequence and the unacked events across a restart', async () => {
    const dir = tempDir();
    let queue = await open(dir);
    await queue.append([pending('a'), pending('b'), pending('c')]);
    const [first] = await queue.read('telemetry', null, 10);
    assert.ok(first);
    await queue.close();

    queue = await open(dir);
    assert.equal(queue.depth.events, 3);
    assert.equal(queue.nextSeq, 4);
    const [d] = await queue.append([pending('d')]);
    assert.equal(d?.seq, 4);
    await queue.close();
  });

  it('never reuses a sequence number even after everything was acked', async () => {
    const dir = tempDir();
    let queue = await open(dir);
    await queue.append([pending('a'), pending('b')]);
    await queue.remove(await queue.read('telemetry', null, 10));
    assert.equal(queue.depth.events, 0);
    await queue.close();
    queue = await open(dir);
    const [c] = await queue.append([pending('c')]);
    assert.equal(c?.seq, 3);
    await queue.close();
  });

  it('gathers concurrent appends into records of at most maxRecordEvents, in order', async () => {
    const queue = await open(tempDir(), 50);
    const appends = Array.from({ length: 30 }, (_, i) =>
      queue.append([pending(`m${i}a`), pending(`m${i}b`)]),
    );
    const results = await Promise.all(appends);
    const seqs = results.flat().map((e) => e.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    const records = await queue.read('telemetry', null, 100);
    assert.ok(records.every((r) => r.events.length <= 50));
    assert.deepEqual(
      records.flatMap((r) => r.events.map((e) => e.seq)),
      seqs,
    );
    assert.ok(records.length < 30, `expected group commit to pack appends, got ${records.length} records`);
    await queue.close();
  });

  it('writes an urgent append (a device waits for its ack) at once, with what is pending, in one write', async () => {
    // A group-commit window far longer than the test's timeout: only `urgent` can make it quick.
    const queue = await LevelQueue.open({
      dir: tempDir(),
      gateway: 'gw-test',
      maxRecordEvents: 100,
      flushIntervalMs: 600_000,
      sync: true,
    });
    const early = queue.append([pending('not urgent')]);
    const urgent = Array.from({ length: 5 }, (_, i) => queue.append([pending(`u${i}`)], { urgent: true }));
    const timeout = new Promise<'window'>((resolve) => setTimeout(resolve, 30_000, 'window').unref());
    const first = await Promise.race([Promise.all([early, ...urgent]), timeout]);
    assert.notEqual(first, 'window', 'the urgent appends waited for the group-commit window');
    // The six appends of one turn of the event loop share one record, so one write.
    const records = await queue.read('telemetry', null, 10);
    assert.deepEqual(
      records.map((r) => r.events.map((e) => e.message)),
      [['not urgent', 'u0', 'u1', 'u2', 'u3', 'u4']],
    );
    // Appends arriving while a write is in progress go together in the next one.
    const during = Array.from({ length: 4 }, (_, i) => queue.append([pending(`d${i}`)], { urgent: true }));
    await new Promise((resolve) => setImmediate(resolve));
    const later = Array.from({ length: 4 }, (_, i) => queue.append([pending(`l${i}`)], { urgent: true }));
    await Promise.all([...during, ...later]);
    const after = await queue.read('telemetry', records[0]!.key, 10);
    assert.equal(after.flatMap((r) => r.events).length, 8);
    assert.ok(after.length <= 2, `expected at most 2 records, got ${after.length}`);
    await queue.close();
  });

  it('puts security and alert events in their own lanes', async () => {
    const queue = await open(tempDir());
    await queue.append([
      pending('t'),
      pending('s', 'security'),
      pending('al', 'alert'),
      pending('h', 'health'),
    ]);
    assert.deepEqual(queue.depth.byLane, { alert: 1, security: 2, telemetry: 1 });
    const alerts = await queue.read('alert', null, 10);
    assert.equal(alerts[0]?.events[0]?.message, 'al');
    await queue.close();
  });

  it('reads after a cursor and deletes only what was removed', async () => {
    const queue = await open(tempDir(), 1);
    await queue.append([pending('1'), pending('2'), pending('3')]);
    const [r1, r2, r3] = await queue.read('telemetry', null, 10);
    assert.ok(r1 && r2 && r3);
    assert.deepEqual(
      (await queue.read('telemetry', r1.key, 10)).map((r) => r.key),
      [r2.key, r3.key],
    );
    await queue.remove([r2]);
    assert.deepEqual(
      (await queue.read('telemetry', null, 10)).map((r) => r.events[0]?.message),
      ['1', '3'],
    );
    assert.equal(queue.depth.events, 2);
    await queue.close();
  });

  it('flushes pending appends on close', async () => {
    const dir = tempDir();
    const queue = await LevelQueue.open({
      dir,
      gateway: 'gw-test',
      maxRecordEvents: 100,
      flushIntervalMs: 5000,
      sync: true,
    });
    const appended = queue.append([pending('late')]);
    await queue.close();
    assert.equal((await appended)[0]?.seq, 1);
    const reopened = await open(dir);
    assert.equal(reopened.depth.events, 1);
    await reopened.close();
  });

  describe('disk cap', () => {
    const capped = (dir: string, maxSizeBytes: number) =>
      LevelQueue.open({
        dir,
        gateway: 'gw-test',
        maxRecordEvents: 1,
        flushIntervalMs: 0,
        sync: true,
        maxSizeBytes,
      });
    const recordBytes = async () => {
      const probe = await open(tempDir(), 1);
      await probe.append([pending('x'.repeat(200))]);
      const bytes = probe.depth.bytes;
      await probe.close();
      return bytes;
    };

    it('evicts the oldest telemetry first, then the oldest security events, never alerts', async () => {
      const size = await recordBytes();
      const queue = await capped(tempDir(), size * 6 + 10);
      const evictions: EvictionReport[] = [];
      queue.on('evicted', (e) => evictions.push(e));
      const body = (n: string) => n.padEnd(200, '.').slice(0, 200);
      for (const name of ['t1', 't2', 't3']) await queue.append([pending(body(name))]);
      for (const name of ['s1', 's2']) await queue.append([pending(body(name), 'security')]);
      await queue.append([pending(body('a1'), 'alert')]);
      assert.equal(queue.depth.records, 6);

      await queue.append([pending(body('a2'), 'alert')]);
      await queue.append([pending(body('t4'))]);
      const left = async (lane: 'alert' | 'security' | 'telemetry') =>
        (await queue.read(lane, null, 100)).map((r) => r.events[0]!.message.replace(/\.+$/, ''));
      assert.deepEqual(await left('telemetry'), ['t3', 't4'], 'oldest telemetry went first');
      assert.deepEqual(await left('security'), ['s1', 's2']);

      for (const name of ['a3', 'a4']) await queue.append([pending(body(name), 'alert')]);
      assert.deepEqual(await left('telemetry'), [], 'all telemetry evicted before any security event');
      await queue.append([pending(body('a5'), 'alert')]);
      assert.deepEqual(await left('security'), ['s2'], 'then the oldest security event');
      assert.deepEqual(await left('alert'), ['a1', 'a2', 'a3', 'a4', 'a5']);
      assert.deepEqual(queue.depth.evicted, { telemetry: 4, security: 1 });
      assert.deepEqual(
        evictions.map((e) => `${e.lane}:${e.events}`),
        ['telemetry:1', 'telemetry:1', 'telemetry:1', 'telemetry:1', 'security:1'],
      );
      await queue.close();
    });

    it('refuses new input with QueueFullError when alerts alone fill the cap, and keeps every alert', async () => {
      const size = await recordBytes();
      const queue = await capped(tempDir(), size * 2 + 10);
      await queue.append([pending('a'.repeat(200), 'alert')]);
      await queue.append([pending('b'.repeat(200), 'alert')]);
      await assert.rejects(queue.append([pending('c'.repeat(200), 'alert')]), QueueFullError);
      await assert.rejects(queue.append([pending('d'.repeat(200))]), QueueFullError);
      assert.equal(queue.depth.byLane.alert, 2);
      // Acking makes room again.
      await queue.remove(await queue.read('alert', null, 1));
      await queue.append([pending('e'.repeat(200), 'alert')]);
      assert.equal(queue.depth.byLane.alert, 2);
      await queue.close();
    });

    it('keeps exact counters across a restart without rescanning, and ignores acks of evicted records', async () => {
      const size = await recordBytes();
      const dir = tempDir();
      let queue = await capped(dir, size * 2 + 10);
      await queue.append([pending('x'.repeat(200))]);
      const [inFlight] = await queue.read('telemetry', null, 1);
      await queue.append([pending('y'.repeat(200))]);
      await queue.append([pending('z'.repeat(200))]); // evicts the record that is "in flight"
      await queue.remove([inFlight!]); // its ack arrives afterwards
      assert.equal(queue.depth.events, 2);
      const before = queue.depth;
      await queue.close();
      queue = await capped(dir, size * 2 + 10);
      assert.deepEqual(queue.depth, before);
      await queue.close();
    });
  });

  describe('format 3: the metadata keys after the records', () => {
    // Every append writes the next sequence and the counters. Sorting before the records (format
    // 2), they made every table LevelDB flushed span the whole backlog, so each compaction of a
    // growing backlog rewrote all of level 1 (gateway/queue/counters.ts).
    it('sorts the next sequence and the counters after every record and state key', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...LANES),
          fc.nat({ max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: 1, max: 100_000 }),
          fc.string(),
          (lane, seq, count, state) => {
            for (const meta of [SEQ_KEY, STATS_KEY]) {
              assert.ok(recordKey(lane, seq, count) < meta);
              assert.ok(STATE_PREFIX + state < meta);
            }
          },
        ),
      );
    });

    it('opens a format-2 database: its metadata renamed in place, nothing counted again, nothing lost', async () => {
      const dir = tempDir();
      let queue = await open(dir);
      await queue.append([pending('a'), pending('b'), pending('c', 'security')]);
      await queue.close();
      // The same database as format 2 wrote it, with an eviction count a recount could not know.
      const db = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
      const [seq, stats] = await db.getMany([SEQ_KEY, STATS_KEY]);
      const counters = JSON.parse(stats!) as { evicted: { telemetry: number } };
      counters.evicted.telemetry = 7;
      await db.batch([
        { type: 'put', key: 'm!next_seq', value: seq! },
        { type: 'put', key: 'm!stats', value: JSON.stringify(counters) },
        { type: 'del', key: SEQ_KEY },
        { type: 'del', key: STATS_KEY },
      ]);
      await db.close();

      queue = await open(dir);
      assert.equal(queue.nextSeq, 4);
      assert.deepEqual(
        { events: queue.depth.events, evicted: queue.depth.evicted },
        { events: 3, evicted: { security: 0, telemetry: 7 } },
      );
      const [next] = await queue.append([pending('d')]);
      assert.equal(next?.seq, 4);
      const read = await queue.read('telemetry', null, 10);
      assert.deepEqual(
        read.flatMap((r) => (JSON.parse(r.data.toString()) as { message: string }[]).map((e) => e.message)),
        ['a', 'b', 'd'],
      );
      await queue.close();

      const after = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
      const keys = await after.keys({ lt: 'q!' }).all();
      assert.deepEqual(keys, [], 'no format-2 key is left');
      await after.close();
    });

    it('after a downgrade and back: the format-2 counters (newer) and the larger next sequence', async () => {
      const dir = tempDir();
      let queue = await open(dir);
      await queue.append([pending('a'), pending('b')]);
      await queue.close(); // z!next_seq 3, two events
      // What a format-2 gateway left after running on it: its own counters, a smaller sequence.
      const db = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
      const counters = JSON.parse((await db.get(STATS_KEY))!) as { evicted: { telemetry: number } };
      counters.evicted.telemetry = 5;
      await db.batch([
        { type: 'put', key: 'm!next_seq', value: '2' },
        { type: 'put', key: 'm!stats', value: JSON.stringify(counters) },
      ]);
      await db.close();
      queue = await open(dir);
      assert.equal(queue.nextSeq, 3, 'no sequence given twice');
      assert.equal(queue.depth.evicted.telemetry, 5);
      await queue.close();
    });
  });
});
