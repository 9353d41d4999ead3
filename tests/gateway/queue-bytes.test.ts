/**
 * The queue's records as bytes: a record value is exactly the UTF-8 of `JSON.stringify(events)`,
 * a link batch frame made from record bytes is exactly what the link codec encodes for the batch and
 * decodes back to the records' events,
 * and the in-memory tail the forwarder reads from agrees with what is on disk, whatever the mix of
 * appends, reads, removes and evictions, also past the tail's size bound.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { FramePool } from '../../gateway/forwarder/batch-frame.ts';
import { LANES, type Lane, LevelQueue, type QueueRecord } from '../../gateway/queue/leveldb-queue.ts';
import { encodeEvents, firstReceived } from '../../gateway/queue/records.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { decodeLinkMessage, encodeLinkMessage } from '../../protocols/link/codec.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Any text, lone surrogates and astral characters included. */
const text = fc.string({ unit: 'binary', maxLength: 40 });
const event = fc.record({
  received: text,
  message: text,
  severity: fc.integer({ min: 0, max: 7 }),
  fields: fc.dictionary(text, fc.oneof(text, fc.double(), fc.boolean(), fc.constant(null)), { maxKeys: 4 }),
  tags: fc.array(text, { maxLength: 3 }),
});

describe('queue records as bytes', () => {
  it('encodes events as the UTF-8 of JSON.stringify, large records included', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        assert.deepEqual(encodeEvents(events), Buffer.from(JSON.stringify(events), 'utf8'));
      }),
    );
    // Past the scratch buffer: a record of a few MB.
    const big = Array.from({ length: 3000 }, (_, i) => ({ message: `é€😀 ${'x'.repeat(1000)} ${i}` }));
    assert.deepEqual(encodeEvents(big), Buffer.from(JSON.stringify(big), 'utf8'));
  });

  it('leaves out what a polluted Object.prototype adds, as JSON.stringify does', () => {
    const events = [
      { message: 'm', fields: { a: 1, nested: { b: 'x' } }, tags: ['t'] },
      Object.assign(Object.create(null) as object, { message: 'n', severity: 3 }),
    ];
    const expected = Buffer.from(JSON.stringify(events), 'utf8');
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'inherited';
    try {
      assert.ok('polluted' in events[0]!);
      assert.deepEqual(encodeEvents(events), expected);
      assert.equal(encodeEvents(events).toString('utf8').includes('polluted'), false);
    } finally {
      delete proto.polluted;
    }
  });

  it('writes any JSON-like value as JSON.stringify does (nesting, undefined, Dates, escapes, numbers)', () => {
    const leaf = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({ unit: 'binary-ascii', maxLength: 20 }),
      fc.double(),
      fc.integer(),
      fc.nat(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
      fc.constant({ toJSON: () => undefined }),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), tie('value'), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 6 }), (events) => {
        assert.deepEqual(encodeEvents(events), Buffer.from(JSON.stringify(events), 'utf8'));
      }),
      { numRuns: 500 },
    );
  });

  it('frames a batch byte for byte as the link codec encodes it, and the decoder reads the events back', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(fc.array(event, { maxLength: 5 }), { maxLength: 6 }),
        (batchId, records) => {
          // The forwarder's framing, in a pool's buffer (forwarder/batch-frame.ts).
          const frame = Buffer.from(
            new FramePool(1, 0).frame(
              batchId,
              records.map((r) => encodeEvents(r)),
            ),
          );
          // What JSON makes of the events (NaN becomes null, -0 becomes 0), in record order.
          const events: unknown[] = JSON.parse(JSON.stringify(records.flat()));
          const decoded = decodeLinkMessage(frame);
          assert.deepEqual(decoded, { ok: true, message: { type: 'batch', batch_id: batchId, events } });
          assert.deepEqual(
            frame,
            Buffer.from(encodeLinkMessage({ type: 'batch', batch_id: batchId, events }), 'utf8'),
          );
        },
      ),
    );
  });

  it('reads the first event’s received time from the bytes as the stored text says', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 5 }), (events) => {
        const json = JSON.stringify(events);
        assert.equal(firstReceived(encodeEvents(events)), /"received":"([^"]+)"/.exec(json)?.[1]);
      }),
    );
  });
});

function pending(i: number, kind: PendingEvent['kind'], size = 50): PendingEvent {
  const now = new Date(1_700_000_000_000 + i).toISOString();
  return {
    ts: now,
    received: now,
    source: 'syslog',
    kind,
    action: 'syslog.message',
    severity: 6,
    message: `${i} ${'m'.repeat(size)}`,
    fields: {},
    tags: [],
  };
}

/** Every record of a lane, read in chunks the way the forwarder reads (cursor = last key). */
async function readAll(queue: LevelQueue, lane: Lane, chunk = 7): Promise<QueueRecord[]> {
  const out: QueueRecord[] = [];
  let cursor: string | null = null;
  for (;;) {
    const records = await queue.read(lane, cursor, chunk);
    if (records.length === 0) return out;
    out.push(...records);
    cursor = records.at(-1)!.key;
  }
}

const view = (records: QueueRecord[]) => records.map((r) => [r.key, r.count, r.bytes, r.events[0]!.seq]);

describe('queue tail in memory', () => {
  it('reads what a fresh open reads from disk, through appends, removes, evictions and the size bound', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-queue-tail-'));
    dirs.push(dir);
    // A cap that makes evictions happen, and appends past a 4 MiB tail bound (records it pushes
    // out give their bytes to later records: record-bytes.ts).
    const options = {
      dir,
      gateway: 'gw-tail',
      maxRecordEvents: 20,
      flushIntervalMs: 0,
      sync: false,
      tailBytes: 4 * 1024 * 1024,
    };
    let queue = await LevelQueue.open({ ...options, maxSizeBytes: 12 * 1024 * 1024 });
    let i = 0;
    const kinds: PendingEvent['kind'][] = ['telemetry', 'security', 'alert'];
    for (let round = 0; round < 12; round += 1) {
      const batch = Array.from({ length: 200 }, () => pending(i, kinds[i++ % 3]!, 8000));
      await queue.append(batch);
      // Ack some of the oldest telemetry and security, as the forwarder would.
      for (const lane of ['telemetry', 'security'] as const) {
        const oldest = await queue.read(lane, null, 2);
        if (round % 3 === 1) await queue.remove(oldest);
      }
    }
    const depth = queue.depth;
    assert.ok(depth.evicted.telemetry > 0, 'the cap evicted telemetry');
    const live = Object.fromEntries(await Promise.all(LANES.map(async (l) => [l, await readAll(queue, l)])));
    await queue.close();
    queue = await LevelQueue.open({ ...options, maxSizeBytes: 12 * 1024 * 1024 });
    for (const lane of LANES) {
      const disk = await readAll(queue, lane);
      assert.deepEqual(view(live[lane]), view(disk), `lane ${lane}`);
      // Byte for byte: no record read from the tail holds another record's bytes.
      const bytes = (records: QueueRecord[]) => records.map((r) => Buffer.from(r.data).toString('base64'));
      assert.deepEqual(bytes(live[lane]), bytes(disk), `lane ${lane} bytes`);
      const seqs = disk.flatMap((r) => r.events.map((e) => e.seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `lane ${lane} in order`,
      );
      assert.equal(
        disk.reduce((n, r) => n + r.count, 0),
        queue.depth.byLane[lane],
      );
    }
    assert.deepEqual(queue.depth, depth);
    // Removing what was read from disk and what is read from the tail counts each record once.
    const all = await readAll(queue, 'alert');
    await queue.remove([...all, ...all]);
    assert.equal(queue.depth.byLane.alert, 0);
    await queue.close();
  });

  it("uses the bytes of an acked, deleted record again, and no other record's", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-queue-reuse-'));
    dirs.push(dir);
    const queue = await LevelQueue.open({
      dir,
      gateway: 'gw-reuse',
      maxRecordEvents: 20,
      flushIntervalMs: 0,
      sync: false,
    });
    let i = 0;
    const append = () => queue.append(Array.from({ length: 20 }, () => pending(i++, 'telemetry', 400)));
    await append();
    await append();
    const [first, second] = await queue.read('telemetry', null, 2);
    assert.ok(first && second && first.bytes >= 4096, 'records large enough to own their memory');
    const secondBytes = Buffer.from(second.data);
    await queue.remove([first]);
    await append();
    const [, third] = await readAll(queue, 'telemetry');
    assert.equal(third!.data.buffer, first.data.buffer, "the acked record's memory holds the next one");
    assert.deepEqual(
      third!.events.map((e) => e.seq),
      Array.from({ length: 20 }, (_, k) => 41 + k),
    );
    // A record not acked keeps its bytes, whatever is appended after it.
    for (let k = 0; k < 5; k += 1) await append();
    assert.deepEqual(Buffer.from(second.data), secondBytes);
    assert.notEqual(third!.data.buffer, second.data.buffer);
    await queue.close();
  });

  it('uses the bytes of records read from disk again once released, and never a tail record’s', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-queue-lend-'));
    dirs.push(dir);
    // A tail of one record: what the first appends wrote is read from disk.
    const queue = await LevelQueue.open({
      dir,
      gateway: 'gw-lend',
      maxRecordEvents: 20,
      flushIntervalMs: 0,
      sync: false,
      tailBytes: 64 * 1024,
    });
    let i = 0;
    const append = () => queue.append(Array.from({ length: 20 }, () => pending(i++, 'telemetry', 400)));
    for (let k = 0; k < 12; k += 1) await append();
    const base64 = (r: QueueRecord) => Buffer.from(r.data).toString('base64');
    const expected = (await readAll(queue, 'telemetry')).map(base64);
    assert.equal(expected.length, 12);
    // Read in chunks as the forwarder does, each chunk released once framed (here: compared); a
    // second release of the same records changes nothing.
    const seen: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let cursor: string | null = null;
    for (;;) {
      const records = await queue.read('telemetry', cursor, 3);
      if (records.length === 0) break;
      for (const r of records) {
        seen.push(base64(r));
        buffers.add(r.data.buffer);
      }
      cursor = records.at(-1)!.key;
      queue.release(records);
      queue.release(records);
    }
    assert.deepEqual(seen, expected);
    assert.ok(buffers.size <= 6, `${buffers.size} buffers for 12 records read from disk`);
    // The newest record is in the tail: released by its reader, it keeps its bytes for the ack,
    // however many records read from disk take bytes from the queue after.
    const keys = (await readAll(queue, 'telemetry')).map((r) => r.key);
    const [newest] = await queue.read('telemetry', keys.at(-2)!, 1);
    const newestBytes = base64(newest!);
    queue.release([newest!]);
    for (let k = 0; k < 3; k += 1) queue.release(await queue.read('telemetry', null, 12));
    assert.equal(base64(newest!), newestBytes);
    await queue.close();
  });
});
