/**
 * A link batch frame (protocols/link/SPEC.md: `{"type":"batch","batch_id":N,"events":[...]}`) made
 * from the bytes of queue records, byte for byte the UTF-8 of what `encodeLinkMessage` makes of the
 * batch of their events. Working on bytes keeps a batch of a thousand events out of the JavaScript
 * heap: a string that size would be allocated in V8's old space and force full collections.
 */
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/** ES2024's resizable ArrayBuffer (Node 20 has it; the ES2023 lib has no types for it). */
type Resizable = ArrayBuffer & {
  resize(n: number): void;
  readonly maxByteLength: number;
  readonly resizable: boolean;
};
const ResizableArrayBuffer = ArrayBuffer as unknown as new (
  n: number,
  o: { maxByteLength: number },
) => Resizable;

/**
 * Batch frames written into a few ArrayBuffers that are used again, each resized to the frame it
 * holds. A frame is handed to ws whole and masked in place (connection.ts), and a fresh buffer
 * per batch (3 MB for 5,000 events) lived just long enough to reach V8's old generation, where
 * external bytes count towards the limit that starts a full collection (issue 18).
 */
export class FramePool {
  readonly #free: Resizable[] = [];
  readonly #keep: number;
  readonly #reserve: number;

  /** `keep`: buffers kept for reuse; `reserve`: the size each may grow to (the largest batch). */
  constructor(keep: number, reserve: number) {
    this.#keep = keep;
    this.#reserve = reserve;
  }

  /**
   * The frame of `records` (each the UTF-8 JSON text of an array of events: a queue record's value)
   * in an ArrayBuffer of exactly its length; `release` it once written.
   */
  frame(batchId: number, records: readonly Uint8Array[]): ArrayBuffer {
    const parts: Uint8Array[] = [Buffer.from(`{"type":"batch","batch_id":${batchId},"events":[`)];
    for (const record of records) {
      // The array's elements, without its brackets; an empty array adds nothing.
      if (record.length <= 2) continue;
      if (parts.length > 1) parts.push(COMMA);
      parts.push(record.subarray(1, record.length - 1));
    }
    parts.push(CLOSE);
    let size = 0;
    for (const p of parts) size += p.length;
    // A frame past the reserve (only a record larger than the batch bound) gets a buffer of its own.
    const fit = this.#free.findIndex((b) => b.maxByteLength >= size);
    let ab: Resizable;
    if (fit >= 0) {
      ab = this.#free.splice(fit, 1)[0]!;
      ab.resize(size);
    } else ab = new ResizableArrayBuffer(size, { maxByteLength: Math.max(size, this.#reserve) });
    const out = new Uint8Array(ab);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return ab;
  }

  /** `ab` (from `frame`) is written: it may hold the next frame. */
  release(ab: ArrayBuffer): void {
    const r = ab as Resizable;
    if (r.resizable && this.#free.length < this.#keep && !this.#free.includes(r)) this.#free.push(r);
  }
}
