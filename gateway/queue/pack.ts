/**
 * Group commit, the packing half (SPEC §2): an appended event gets its identity (`<gateway>:<seq>`,
 * sequences in arrival order) and is written at once as JSON into the open record of its lane,
 * which closes at `maxRecordEvents` events; the next write takes every record closed or open. The
 * event objects are not kept while the write waits for its turn and its fsync: they die young
 * instead of being promoted to V8's old space, whose collections were most of the gateway's CPU
 * per event (issue 18). LevelDB's cost is per entry, so a record carries many events.
 */
import {
  EVENT_SCHEMA_VERSION,
  type Event,
  eventId,
  type PendingEvent,
} from '../../protocols/event/schema.ts';
import { isPlain, JsonBytesWriter } from '../../server-shared/json-bytes.ts';
import { RecordBytes } from './record-bytes.ts';
import { makeRecord, recordKey } from './records.ts';
import { LANES, type Lane, laneOf, type QueueRecord } from './types.ts';

/** Set on every event of one append, as it is written (the pipeline's clock offset). */
export interface AppendStamp {
  clockOffsetMs?: number;
  /**
   * A source's own state (a file source's read offsets), written in the same atomic batch as the
   * events (`s!<key>`; null deletes the key), so that what a source has read and what the queue
   * holds never disagree after a crash (SPEC §10).
   */
  state?: Record<string, string | null>;
  /**
   * A device waits for these events to be durable before it is acknowledged (MQTT PUBACK): write
   * them now, not after the group-commit window (leveldb-queue.ts `append`).
   */
  urgent?: boolean;
}

/** Key prefix of sources' state (SPEC §10). */
export const STATE_PREFIX = 's!';

/** A batch operation; record values are bytes (records.ts encodeEvents), the counters text. */
export type Op =
  | { type: 'put'; key: string; value: string }
  | { type: 'put'; key: string; value: Buffer; valueEncoding: 'buffer' }
  | { type: 'del'; key: string };

/** Record values are read and written as bytes: no large strings on the heap (records.ts). */
export const AS_BYTES = { valueEncoding: 'buffer' } as const;

/** The ops of the sources' state of one append (SPEC §10), in order. */
export function stateOps(state: Record<string, string | null> | undefined, ops: Op[]): void {
  if (!state) return;
  for (const [key, value] of Object.entries(state))
    ops.push(
      value === null
        ? { type: 'del', key: STATE_PREFIX + key }
        : { type: 'put', key: STATE_PREFIX + key, value },
    );
}

/** `{ v, id, gateway, seq, ...pending, clock_offset_ms }`: the event the queue stores. */
export function identify(
  pending: PendingEvent,
  gateway: string,
  seq: number,
  offset: number | undefined,
): Event {
  const id = eventId(gateway, seq);
  // Literals (not properties added to a clone, which leaves objects V8 stores and serialises
  // slowly); the offset is stamped here rather than on a copy in the pipeline.
  return offset === undefined
    ? { v: EVENT_SCHEMA_VERSION, id, gateway, seq, ...pending }
    : { v: EVENT_SCHEMA_VERSION, id, gateway, seq, ...pending, clock_offset_ms: offset };
}

/** Members `identify` writes itself: a pending event that has one is identified as an object. */
const IDENTITY = ['v', 'id', 'gateway', 'seq', 'clock_offset_ms'];
const SCRATCH_BYTES = 64 * 1024;
/** A lane's scratch buffer is kept between records up to this size. */
const SCRATCH_KEEP_BYTES = 1024 * 1024;
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c;
const BRACE = 0x7d; // }

export interface PackMark {
  closed: number;
  lanes: Array<{ n: number; count: number; firstSeq: number }>;
}

interface OpenRecord {
  w: JsonBytesWriter;
  firstSeq: number;
  count: number;
}

export class RecordPacker {
  readonly #gateway: string;
  readonly #max: number;
  readonly #open: Record<Lane, OpenRecord>;
  #closed: QueueRecord[] = [];
  /** `{"v":1,"id":"<gateway>:` and `","gateway":"<gateway>","seq":`, around the sequence. */
  readonly #head: Buffer;
  readonly #middle: Buffer;
  readonly #offsetKey = Buffer.from(',"clock_offset_ms":');
  readonly #bytes = new RecordBytes();

  constructor(gateway: string, maxRecordEvents: number) {
    this.#gateway = gateway;
    this.#max = Math.max(1, maxRecordEvents);
    const open = (): OpenRecord => ({
      w: new JsonBytesWriter(Buffer.allocUnsafe(SCRATCH_BYTES)),
      firstSeq: 0,
      count: 0,
    });
    this.#open = { alert: open(), security: open(), telemetry: open() };
    const quoted = JSON.stringify(gateway);
    this.#head = Buffer.from(`{"v":${EVENT_SCHEMA_VERSION},"id":${quoted.slice(0, -1)}:`);
    this.#middle = Buffer.from(`","gateway":${quoted},"seq":`);
  }

  /** Writes a pending event, with the identity `seq` gives it, into its lane's open record. */
  add(pending: PendingEvent, seq: number, offset: number | undefined): void {
    const lane = laneOf(pending);
    const w = this.#next(lane, seq);
    if (!isPlain(pending) || IDENTITY.some((k) => Object.hasOwn(pending, k))) {
      // What `identify` makes of it: a member it sets is overwritten in place, in the spread's order.
      if (!w.value(identify(pending, this.#gateway, seq, offset))) w.raw('null');
    } else {
      // The same bytes as JSON.stringify(identify(...)), without making the object.
      w.bytes(this.#head);
      w.number(seq);
      w.bytes(this.#middle);
      w.number(seq);
      w.members(pending as unknown as Record<string, unknown>, false);
      if (offset !== undefined) {
        w.bytes(this.#offsetKey);
        w.number(offset);
      }
      w.byte(BRACE);
    }
    this.#added(lane);
  }

  /** Writes an event that already has its identity (`identify`). */
  addEvent(event: Event): void {
    const lane = laneOf(event);
    const w = this.#next(lane, event.seq);
    if (!w.value(event)) w.raw('null');
    this.#added(lane);
  }

  /** Where the records stand, to undo an append whose encoding threw (`rollback`). */
  mark(): PackMark {
    return {
      closed: this.#closed.length,
      lanes: LANES.map((lane) => {
        const r = this.#open[lane];
        return { n: r.w.n, count: r.count, firstSeq: r.firstSeq };
      }),
    };
  }

  /** Back to `mark`: what was written since is forgotten (a record closed since is reopened). */
  rollback(mark: PackMark): void {
    const undone = this.#closed.splice(mark.closed);
    LANES.forEach((lane, i) => {
      const m = mark.lanes[i]!;
      const r = this.#open[lane];
      r.count = m.count;
      r.firstSeq = m.firstSeq;
      r.w.n = m.count > 0 ? m.n : 0;
      // A record that closed since holds the lane's bytes up to the mark; its writer was emptied.
      const reopened = undone.find((record) => record.lane === lane);
      if (reopened && m.count > 0) {
        r.w.n = 0;
        r.w.bytes(reopened.data.subarray(0, m.n));
      }
    });
  }

  /** A copy of `bytes` (a record read back from disk) in bytes `recycle` can take back. */
  borrow(bytes: Uint8Array): Buffer {
    return this.#bytes.copy(bytes);
  }

  /** A record nothing reads again (acked and deleted, or pushed out of the tail): reuse its bytes. */
  recycle(record: QueueRecord | undefined): void {
    this.#bytes.recycle(record?.data);
  }

  /** Every record written to since the last take, each lane's in sequence order; none stay open. */
  take(): QueueRecord[] {
    for (const lane of LANES) if (this.#open[lane].count > 0) this.#close(lane);
    const out = this.#closed;
    this.#closed = [];
    return out;
  }

  #next(lane: Lane, seq: number): JsonBytesWriter {
    const r = this.#open[lane];
    if (r.count === 0) {
      r.w.n = 0;
      r.w.byte(OPEN);
      r.firstSeq = seq;
    } else r.w.byte(COMMA);
    return r.w;
  }

  #added(lane: Lane): void {
    if (++this.#open[lane].count >= this.#max) this.#close(lane);
  }

  #close(lane: Lane): void {
    const r = this.#open[lane];
    r.w.byte(CLOSE);
    const value = this.#bytes.copy(r.w.buf.subarray(0, r.w.n));
    this.#closed.push(makeRecord(recordKey(lane, r.firstSeq, r.count), lane, r.firstSeq, r.count, value));
    r.count = 0;
    if (r.w.buf.length > SCRATCH_KEEP_BYTES) r.w = new JsonBytesWriter(Buffer.allocUnsafe(SCRATCH_BYTES));
  }
}
