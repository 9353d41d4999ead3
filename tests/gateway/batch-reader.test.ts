/**
 * The forwarder's batch reader over a backlog on disk (the queue's in-memory tail long passed): each
 * batch takes whole records up to its bounds, in order, every record once, and reads from the queue
 * about the records it sends, not a fixed chunk of which most is read again for the next batch.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BatchReader } from '../../gateway/forwarder/batch-reader.ts';
import { LevelQueue } from '../../gateway/queue/leveldb-queue.ts';
import { pending } from '../support/link-client.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function backlog(records: number, perRecord: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-batch-reader-'));
  dirs.push(dir);
  // A tail of one record's size: everything but the newest is read from disk.
  const queue = await LevelQueue.open({
    dir,
    gateway: 'gw-reader',
    maxRecordEvents: perRecord,
    flushIntervalMs: 0,
    sync: false,
    tailBytes: 64 * 1024,
    maxSizeBytes: 256 * 1024 * 1024,
  });
  let i = 0;
  for (let r = 0; r < records; r++)
    await queue.append(Array.from({ length: perRecord }, () => pending(`${i++} ${'m'.repeat(400)}`)));
  const read: number[] = [];
  const counting = new Proxy(queue, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (key !== 'read') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<LevelQueue['read']>) => {
        const records = await target.read(...args);
        read.push(records.length);
        return records;
      };
    },
  });
  return { queue, reader: new BatchReader(counting), read, events: i };
}

describe('forwarder batch reader', () => {
  it('reads about what each batch sends from a backlog on disk', async () => {
    const { queue, reader, read, events } = await backlog(40, 200);
    const batches: number[][] = [];
    let seqs: number[] = [];
    for (;;) {
      const records = await reader.next(() => ({ maxEvents: 1000, maxBytes: 4 * 1024 * 1024 }));
      if (records.length === 0) break;
      batches.push(records.map((r) => r.count));
      seqs = seqs.concat(records.flatMap((r) => r.events.map((e) => e.seq)));
    }
    await queue.close();
    assert.deepEqual(
      batches,
      Array.from({ length: 8 }, () => [200, 200, 200, 200, 200]),
    );
    assert.deepEqual(
      seqs,
      Array.from({ length: events }, (_, k) => k + 1),
    );
    const total = read.reduce((a, b) => a + b, 0);
    // 40 sent; the first read, before a record's size is known, may take up to a chunk (16).
    assert.ok(total <= 40 + 16, `${total} records read for 40 sent (${read.join(', ')})`);
  });

  it('keeps a batch within its byte bound, a first record larger than it going alone', async () => {
    const { queue, reader } = await backlog(6, 100);
    const bytes = (await queue.read('telemetry', null, 1))[0]!.bytes;
    const sizes: number[] = [];
    for (;;) {
      const records = await reader.next(() => ({ maxEvents: 10_000, maxBytes: Math.floor(bytes * 2.5) }));
      if (records.length === 0) break;
      sizes.push(records.length);
    }
    const alone: number[] = [];
    const again = new BatchReader(queue);
    for (;;) {
      const records = await again.next(() => ({ maxEvents: 10_000, maxBytes: 1 }));
      if (records.length === 0) break;
      alone.push(records.length);
    }
    await queue.close();
    assert.deepEqual(sizes, [2, 2, 2]);
    assert.deepEqual(alone, [1, 1, 1, 1, 1, 1]);
  });
});
