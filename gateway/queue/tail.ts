/**
 * The end of each lane kept in memory: the records written and neither removed nor evicted, oldest
 * first, whose keys are greater than the lane's `from` bound. Together with that bound it is an
 * exact copy of the end of the lane on disk, so a forwarder that keeps up reads what was just
 * written from here instead of from LevelDB, and an ack of a record found here needs no disk look.
 * Bounded in bytes: over the bound the oldest records are forgotten (the bound moves past them)
 * and are read from disk again.
 */
import { lanePrefix } from './records.ts';
import { LANES, type Lane, type QueueRecord } from './types.ts';

export class RecordTail {
  readonly #maxBytes: number;
  #records: Record<Lane, Map<string, QueueRecord>> = {
    alert: new Map(),
    security: new Map(),
    telemetry: new Map(),
  };
  #from: Record<Lane, string> = {
    alert: lanePrefix('alert'),
    security: lanePrefix('security'),
    telemetry: lanePrefix('telemetry'),
  };
  #bytes = 0;

  readonly #forgot: (record: QueueRecord) => void;

  /** `forgot`: a record the bound pushed out (on disk still; nobody here reads its bytes again). */
  constructor(maxBytes: number, forgot: (record: QueueRecord) => void = () => {}) {
    this.#maxBytes = maxBytes;
    this.#forgot = forgot;
  }

  /** Empty, starting after `lastKey` of each lane (the last record on disk; none: the lane's prefix). */
  reset(lastKey: (lane: Lane) => string | undefined): void {
    for (const lane of LANES) {
      this.#records[lane].clear();
      this.#from[lane] = lastKey(lane) ?? lanePrefix(lane);
    }
    this.#bytes = 0;
  }

  add(record: QueueRecord): void {
    this.#records[record.lane].set(record.key, record);
    this.#bytes += record.bytes;
    // Over the bound: forget the oldest records, of this lane first; they are read from disk.
    for (const lane of [record.lane, 'telemetry', 'security', 'alert'] as const) {
      const tail = this.#records[lane];
      for (const [key, old] of tail) {
        if (this.#bytes <= this.#maxBytes) return;
        tail.delete(key);
        this.#bytes -= old.bytes;
        this.#from[lane] = key;
        this.#forgot(old);
      }
    }
  }

  /** Removes a record; returns it if the tail held it. */
  drop(lane: Lane, key: string): QueueRecord | undefined {
    const record = this.#records[lane].get(key);
    if (!record) return undefined;
    this.#records[lane].delete(key);
    this.#bytes -= record.bytes;
    return record;
  }

  has(lane: Lane, key: string): boolean {
    return this.#records[lane].has(key);
  }

  /**
   * Up to `limit` records of `lane` after `afterKey` (null: from the start), when the tail holds
   * everything the disk has past that key; undefined when the disk must be read.
   */
  readAfter(lane: Lane, afterKey: string | null, limit: number): QueueRecord[] | undefined {
    if ((afterKey ?? lanePrefix(lane)) < this.#from[lane]) return undefined;
    const out: QueueRecord[] = [];
    for (const [key, record] of this.#records[lane]) {
      if (afterKey !== null && key <= afterKey) continue;
      out.push(record);
      if (out.length >= limit) break;
    }
    return out;
  }
}
