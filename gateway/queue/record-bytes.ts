/**
 * The bytes of the queue's records, used again (issue 18): a closed record is copied out of its
 * lane's scratch buffer into memory of its own, which lives in the in-memory tail until central
 * acks the record. A fresh buffer per record (about 150 KB for 200 syslog events) lived just long
 * enough to reach V8's old generation, where such bytes bring on full collections: a build that
 * never allocated them took 9% less CPU per event (docs/performance-log.md). So a record's buffer comes
 * back here once nothing reads it again: its ack has deleted it (it was framed and sent), or the
 * tail's bound pushed it out (it is on disk, and is read from there). Readers of the tail use its
 * records within the turn of the event loop that read them (queue read, then the batch frame's
 * copy: forwarder/index.ts), so no reader is behind either. A record read back from disk is copied
 * into such a buffer too, which comes back when its reader releases it, once framed
 * (disk-reads.ts). A record that the disk bound evicted is left to the collector.
 */
const MIN_BYTES = 4096; // below this, Node's shared pool serves (Buffer.from), nothing to keep
/** Sizes are rounded up to this step, so that a buffer fits the next records of about its size. */
const STEP = 64 * 1024;
/** Buffers waiting for a record: a few of each size in use is all a steady flow needs. */
const MAX_FREE_BYTES = 4 * 1024 * 1024;

export class RecordBytes {
  readonly #free = new Map<number, Buffer[]>();
  #freeBytes = 0;

  /** A copy of `bytes` in memory the record owns (a view of a buffer that may be used again). */
  copy(bytes: Uint8Array): Buffer {
    if (bytes.length < MIN_BYTES) return Buffer.from(bytes);
    const size = Math.ceil(bytes.length / STEP) * STEP;
    let buf = this.#free.get(size)?.pop();
    if (buf) this.#freeBytes -= size;
    else buf = Buffer.allocUnsafeSlow(size);
    buf.set(bytes);
    return buf.subarray(0, bytes.length);
  }

  /** `data` (from `copy`) is no longer read by anyone: its buffer may hold a later record. */
  recycle(data: Uint8Array | undefined): void {
    if (!data || data.length < MIN_BYTES || data.byteOffset !== 0) return;
    const size = data.buffer.byteLength;
    if (size % STEP !== 0 || this.#freeBytes + size > MAX_FREE_BYTES) return;
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, (list = []));
    list.push(Buffer.from(data.buffer, 0, size));
    this.#freeBytes += size;
  }
}
