/**
 * Records read back from LevelDB, for a reader past the in-memory tail (tail.ts): a backlog built
 * while central was away or slower than the gateway. Each record's bytes are copied at once into a
 * buffer of the packer's (record-bytes.ts) and lent to the reader, who releases the record once done
 * with its bytes (the forwarder: once framed); its buffer then holds a later record. LevelDB's own
 * copy dies young. Read back as a fresh buffer each, a backlog's records lived through the read's
 * waits into V8's old space, and V8 counts external memory allocated since its last full collection
 * against the old generation's limit: they brought on most of the syslog benchmark's full
 * collections (docs/performance-log.md, session 19).
 */
import type { ClassicLevel } from 'classic-level';
import { AS_BYTES, type RecordPacker } from './pack.ts';
import { decodeRecord, lanePrefix } from './records.ts';
import type { Lane, QueueRecord } from './types.ts';

export class DiskReads {
  readonly #db: ClassicLevel<string, string>;
  readonly #packer: RecordPacker;
  /** Records read into the packer's bytes, until their reader gives them back. */
  readonly #lent = new WeakSet<QueueRecord>();
  #corrupt = 0;

  constructor(db: ClassicLevel<string, string>, packer: RecordPacker) {
    this.#db = db;
    this.#packer = packer;
  }

  /** Values that were not a record (counted, skipped). */
  get corrupt(): number {
    return this.#corrupt;
  }

  /** Up to `limit` records of one lane whose key is after `afterKey`, oldest first. */
  async read(lane: Lane, afterKey: string | null, limit: number): Promise<QueueRecord[]> {
    const prefix = lanePrefix(lane);
    const out: QueueRecord[] = [];
    const range = afterKey
      ? { gt: afterKey, lt: `${prefix}~`, limit }
      : { gte: prefix, lt: `${prefix}~`, limit };
    for await (const [key, value] of this.#db.iterator<string, Buffer>({ ...range, ...AS_BYTES })) {
      const record = decodeRecord(key, this.#packer.borrow(value));
      if (!record) {
        this.#corrupt += 1;
        continue;
      }
      this.#lent.add(record);
      out.push(record);
    }
    return out;
  }

  /**
   * The reader is done with these records, bytes included: those lent here are used again. Only
   * the reader of a record may release it, and must not touch it after; a second release, or one
   * of a record not lent here (a tail record), does nothing. A record never released is left to the
   * collector.
   */
  release(records: readonly QueueRecord[]): void {
    for (const record of records) if (this.#lent.delete(record)) this.#packer.recycle(record);
  }
}
