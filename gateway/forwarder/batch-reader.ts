/**
 * Batching for the forwarder: which queued records the next batch carries. Whole records of the
 * highest-priority lane with unsent data (alert > security > telemetry), up to the batch's event
 * and byte bounds, read from a per-lane cursor that moves past what was sent on this connection.
 * A new connection starts again from the oldest record of each lane: whatever was not acked is
 * sent again (protocols/link/SPEC.md §4; central stores each event once).
 */
import { LANES, type Lane, type LevelQueue, type QueueRecord } from '../queue/leveldb-queue.ts';

/** Records read from one lane at a time while filling a batch, at most. */
const READ_CHUNK_RECORDS = 16;

export interface BatchBounds {
  maxEvents: number;
  maxBytes: number;
}

export class BatchReader {
  readonly #queue: LevelQueue;
  #cursors: Record<Lane, string | null> = { alert: null, security: null, telemetry: null };
  /** Bumped on every reset, so reads begun on an old connection cannot move the cursors. */
  #generation = 0;
  /** The most events and bytes one record of the last read held (of those looked at): how many records a batch takes. */
  #recordEvents = 1;
  #recordBytes = 1;

  constructor(queue: LevelQueue) {
    this.#queue = queue;
  }

  /** The link went down: the next connection reads every lane from its start. */
  reset(): void {
    this.#generation += 1;
    this.#cursors = { alert: null, security: null, telemetry: null };
  }

  /**
   * The next batch's records, or none. `bounds` is asked once per lane, at the start of its read
   * (a slow start may end while a read waits on the disk). A first record larger than the bounds
   * still goes, alone. Cursors move only if no reset happened while reading.
   */
  async next(bounds: () => BatchBounds): Promise<QueueRecord[]> {
    const generation = this.#generation;
    for (const lane of LANES) {
      const out: QueueRecord[] = [];
      let events = 0;
      let bytes = 0;
      let cursor = this.#cursors[lane];
      const { maxEvents, maxBytes } = bounds();
      read: while (events < maxEvents && bytes < maxBytes) {
        // Records from the queue's tail come back without I/O and are framed (copied) in the same
        // turn of the event loop: their bytes are reused once the tail lets them go (record-bytes.ts).
        // As many records as the batch has room for, judged by the largest of the last read (up to the record that did not fit): what
        // is read past the bounds is read again for the next batch, from disk in a backlog (a
        // chunk of 16 for a batch of five 200-event records read each record about three times).
        const room = Math.min(
          Math.ceil((maxEvents - events) / this.#recordEvents),
          Math.ceil((maxBytes - bytes) / this.#recordBytes),
        );
        const records = await this.#queue.read(lane, cursor, Math.max(1, Math.min(READ_CHUNK_RECORDS, room)));
        if (generation !== this.#generation) {
          this.#queue.release([...out, ...records]);
          return [];
        }
        if (records.length === 0) break;
        this.#recordEvents = 1;
        this.#recordBytes = 1;
        for (let k = 0; k < records.length; k++) {
          const record = records[k]!;
          this.#recordEvents = Math.max(this.#recordEvents, record.count);
          this.#recordBytes = Math.max(this.#recordBytes, record.bytes);
          const tooBig = events + record.count > maxEvents || bytes + record.bytes > maxBytes;
          if (out.length > 0 && tooBig) {
            // Read again for the next batch: these go back to the queue unused.
            this.#queue.release(records.slice(k));
            break read;
          }
          out.push(record);
          events += record.count;
          bytes += record.bytes;
          cursor = record.key;
        }
      }
      if (out.length > 0) {
        this.#cursors[lane] = cursor;
        return out;
      }
    }
    return [];
  }
}
