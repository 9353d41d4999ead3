/**
 * The gateway's durable event queue on LevelDB (format: gateway/queue/SPEC.md). An event is
 * durable once `append` resolves (or `enqueue`'s `durable`); only then may a source acknowledge it
 * to a device. Appends arriving close together are gathered into one write (group commit) and
 * packed many events to a record, because LevelDB's cost is per entry, not per byte; an event is
 * encoded into its record when appended, so no event object waits for the write (pack.ts). The depth counters live in the
 * database and change in the same atomic batch as the records, so opening is O(1) whatever the
 * backlog, and a disk cap is enforced by evicting the oldest telemetry, then the oldest
 * security records, never alerts. The records written since the forwarder last caught up stay in
 * memory too (a bounded tail per lane), so a forwarder that keeps up takes them from there instead
 * of reading back from LevelDB what was just written; what is on disk does not change.
 *
 * This file is the queue's write chain, reads and deletes; opening and recovery are open-db.ts,
 * the counters counters.ts, packing appends into records pack.ts, the disk cap evictions.ts, the
 * record format records.ts and the in-memory tail tail.ts.
 */
import { EventEmitter } from 'node:events';
import type { BatchOperation, ClassicLevel } from 'classic-level';
import type { Event, PendingEvent } from '../../protocols/event/schema.ts';
import { QueueCounters, SEQ_KEY } from './counters.ts';
import { type EvictionReport, planEvictions } from './evictions.ts';
import { DiskReads } from './disk-reads.ts';
import { openLevelDb, openOrRecover, type QueueRecovery } from './open-db.ts';
import {
  AS_BYTES,
  type AppendStamp,
  identify,
  type Op,
  RecordPacker,
  STATE_PREFIX,
  stateOps,
} from './pack.ts';
import { describeWriteError, firstReceived, keyLane, lanePrefix } from './records.ts';
import { RecordTail } from './tail.ts';
import { idRange, LANES, NO_IDS } from './types.ts';
import type { Enqueued, Lane, QueueDepth, QueueRecord, RecordRef } from './types.ts';

export { type Enqueued, LANES, type Lane, laneOf, type QueueDepth, type QueueRecord } from './types.ts';
export { type RecordRef, recordRef } from './types.ts';
export { type EvictionReport, QueueFullError } from './evictions.ts';
export type { AppendStamp } from './pack.ts';

export interface LevelQueueOptions {
  dir: string;
  gateway: string;
  /** Events packed into one record. */
  maxRecordEvents: number;
  /** How long to gather appends before one durable write. */
  flushIntervalMs: number;
  sync: boolean;
  /** Cap on the bytes of queued records; 0 = no cap. */
  maxSizeBytes?: number;
  /** Bytes of records the in-memory tail keeps (default TAIL_MAX_BYTES; smaller in tests). */
  tailBytes?: number;
}

/** One append waiting for the next write; its events are already in the packer's records. */
type PendingAppend = {
  state: Record<string, string | null> | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
};

/**
 * Bytes of written records kept in memory for the forwarder (the tail), batches in flight included;
 * at 4 MB, 20,000 events/s were mostly read back from LevelDB (~5% of the main thread).
 */
const TAIL_MAX_BYTES = 16 * 1024 * 1024;

export class LevelQueue extends EventEmitter<{ append: []; evicted: [EvictionReport] }> {
  readonly #db: ClassicLevel<string, string>;
  readonly #options: LevelQueueOptions;
  #nextSeq = 1;
  #pending: PendingAppend[] = [];
  #pendingCount = 0;
  #timer: NodeJS.Timeout | undefined;
  /** A write asked for at the end of this turn of the event loop (an urgent append, a full record). */
  #immediate: NodeJS.Immediate | undefined;
  /** Every mutation runs on this chain, one at a time, so counters and records never disagree. */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #corrupt = 0;
  /** LevelDB keeps a failed write's error forever; after one, the database is reopened (SPEC §9). */
  #reopenAfter = 0;
  readonly #counters = new QueueCounters();
  readonly #tail: RecordTail;
  /** The appended events as JSON in the records of the next write (pack.ts). */
  readonly #packer: RecordPacker;
  /** Records read back from disk (the backlog past the tail), lent until released. */
  readonly #disk: DiskReads;

  private constructor(db: ClassicLevel<string, string>, options: LevelQueueOptions) {
    super();
    this.#db = db;
    this.#options = options;
    this.#packer = new RecordPacker(options.gateway, options.maxRecordEvents);
    this.#tail = new RecordTail(options.tailBytes ?? TAIL_MAX_BYTES, (r) => this.#packer.recycle(r));
    this.#disk = new DiskReads(db, this.#packer);
  }

  static async open(options: LevelQueueOptions): Promise<LevelQueue> {
    const queue = new LevelQueue(await openLevelDb(options.dir), options);
    await queue.#load();
    return queue;
  }

  /**
   * Opens the queue, recovering from a corrupt database instead of refusing to start (SPEC §8;
   * open-db.ts). What happened is returned so that the gateway can report it to central.
   */
  static async openOrRecover(
    options: LevelQueueOptions,
  ): Promise<{ queue: LevelQueue; recovery?: QueueRecovery }> {
    return openOrRecover(options.dir, () => LevelQueue.open(options));
  }

  async #load(): Promise<void> {
    await this.#resetTail();
    const { nextSeq, corrupt } = await this.#counters.load(this.#db);
    // A reopen after a failed write (SPEC §9) must not give again the sequences of pending appends.
    this.#nextSeq = Math.max(this.#nextSeq, nextSeq);
    this.#corrupt += corrupt;
  }

  /** An empty tail that starts after the last record on disk of each lane. */
  async #resetTail(): Promise<void> {
    const last = new Map<Lane, string | undefined>();
    for (const lane of LANES) {
      const prefix = lanePrefix(lane);
      const [key] = await this.#db.keys({ gte: prefix, lt: `${prefix}~`, reverse: true, limit: 1 }).all();
      last.set(lane, key);
    }
    this.#tail.reset((lane) => last.get(lane));
  }

  get depth(): QueueDepth {
    return this.#counters.depth;
  }

  /** Records found unreadable (SPEC §6): skipped, never sent, reported in /metrics. */
  get corruptRecords(): number {
    return this.#corrupt + this.#disk.corrupt;
  }

  /** The sequence the next event will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /**
   * Makes events durable and gives them their identity; resolves after the write is on disk.
   * Appends wait up to `flushIntervalMs` to share one write; an `urgent` one (a device waits for
   * its acknowledgement) is written at the end of this turn of the event loop with whatever else
   * arrived in it, or right after the write in progress with everything that arrived meanwhile.
   * The events are encoded now; the ones returned are made for the caller (the pipeline uses
   * `enqueue`, which keeps no event object while the write waits).
   */
  append(events: PendingEvent[], stamp?: AppendStamp): Promise<Event[]> {
    if (this.#closed) return Promise.reject(new Error('queue is closed'));
    if (events.length === 0 && !stamp?.state) return Promise.resolve([]);
    const offset = stamp?.clockOffsetMs;
    const gateway = this.#options.gateway;
    const built: Event[] = new Array<Event>(events.length);
    this.#encode(events.length, (k, seq) => {
      const event = identify(events[k]!, gateway, seq, offset);
      this.#packer.addEvent(event);
      built[k] = event;
    });
    return this.#schedule(events.length, stamp).then(() => built);
  }

  /**
   * As `append`, but the ids come back at once and no event object is kept: each is encoded into
   * its record now, so the objects die young while the write waits for its turn and its fsync.
   * Throws (and queues nothing of it) when an event cannot be encoded as JSON.
   */
  enqueue(events: readonly PendingEvent[], stamp?: AppendStamp): Enqueued {
    if (this.#closed) return { ids: NO_IDS, durable: Promise.reject(new Error('queue is closed')) };
    if (events.length === 0 && !stamp?.state) return { ids: NO_IDS, durable: Promise.resolve() };
    const offset = stamp?.clockOffsetMs;
    const first = this.#encode(events.length, (k, seq) => this.#packer.add(events[k]!, seq, offset));
    return {
      ids: idRange(this.#options.gateway, first, events.length),
      durable: this.#schedule(events.length, stamp),
    };
  }

  /** Gives `count` events their sequences and encodes them, all or nothing; returns the first sequence. */
  #encode(count: number, each: (k: number, seq: number) => void): number {
    const mark = this.#packer.mark();
    const first = this.#nextSeq;
    try {
      for (let k = 0; k < count; k++) each(k, first + k);
    } catch (error) {
      this.#packer.rollback(mark);
      throw error;
    }
    this.#nextSeq = first + count;
    return first;
  }

  #schedule(count: number, stamp: AppendStamp | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ state: stamp?.state, resolve, reject });
      this.#pendingCount += count;
      const now =
        stamp?.urgent === true ||
        this.#pendingCount >= this.#options.maxRecordEvents ||
        this.#options.flushIntervalMs === 0;
      if (now) this.#flushNow();
      else this.#flushSoon(this.#options.flushIntervalMs);
    });
  }

  #flushSoon(delayMs: number): void {
    if (this.#timer || this.#immediate) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#serial(() => this.#flush());
    }, delayMs);
  }

  /** Group commit without a window: each write on the chain takes all that is pending when it starts. */
  #flushNow(): void {
    if (this.#immediate) return;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      void this.#serial(() => this.#flush());
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task, task);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Reopens the database after a failed write (full disk, I/O error), at most once a second. */
  async #recoverWrites(): Promise<void> {
    if (this.#reopenAfter === 0 || Date.now() < this.#reopenAfter) return;
    this.#reopenAfter = 0;
    try {
      await this.#db.close();
      await this.#db.open();
      await this.#load();
    } catch {
      this.#reopenAfter = Date.now() + 1000;
    }
  }

  async #flush(): Promise<void> {
    await this.#recoverWrites();
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingCount = 0;
    // Every event appended so far is in these records, and has a sequence below `seq`.
    const added = this.#packer.take();
    const seq = this.#nextSeq;
    if (batch.length === 0) return;
    const ops: Op[] = [];
    // In append order, so that a later append's state for a key wins.
    for (const item of batch) stateOps(item.state, ops);
    for (const r of added) ops.push({ type: 'put', key: r.key, value: r.data as Buffer, ...AS_BYTES });
    const newBytes = added.reduce((sum, a) => sum + a.bytes, 0);
    let evictions: EvictionReport[] = [];
    try {
      evictions = await planEvictions(
        this.#db,
        this.#counters.lanes,
        this.#options.maxSizeBytes ?? 0,
        newBytes,
        ops,
      );
    } catch (error) {
      for (const item of batch) item.reject(error as Error);
      return;
    }
    const before = this.#counters.save();
    for (const a of added) this.#counters.add(a.lane, a.count, a.bytes, +1);
    for (const e of evictions) this.#counters.evict(e);
    ops.push({ type: 'put', key: SEQ_KEY, value: String(seq) }, this.#counters.statsOp());
    try {
      await this.#write(ops);
    } catch (error) {
      this.#counters.restore(before);
      // Schedule a reopen once; frequent failing writes must not keep pushing it back.
      if (this.#reopenAfter === 0) this.#reopenAfter = Date.now() + 1000;
      for (const item of batch) item.reject(describeWriteError(error));
      return;
    }
    // Evicted records (the batch's deletes) leave the tail too.
    for (const op of ops) if (op.type === 'del') this.#tail.drop(keyLane(op.key), op.key);
    for (const record of added) this.#tail.add(record);
    for (const item of batch) item.resolve();
    for (const e of evictions) this.emit('evicted', e);
    this.emit('append');
  }

  /** The sources' state whose key starts with `prefix` (SPEC §10), as `append` last wrote it. */
  async readState(prefix: string): Promise<Map<string, string>> {
    const from = STATE_PREFIX + prefix;
    const out = new Map<string, string>();
    for await (const [key, value] of this.#db.iterator({ gte: from, lt: `${from}\uffff` }))
      out.set(key.slice(STATE_PREFIX.length), value);
    return out;
  }

  /** Up to `limit` records of one lane whose key is after `afterKey`, oldest first. */
  async read(lane: Lane, afterKey: string | null, limit: number): Promise<QueueRecord[]> {
    // Past the start of the tail, the tail is what the disk holds: no read needed.
    return this.#tail.readAfter(lane, afterKey, limit) ?? this.#disk.read(lane, afterKey, limit);
  }

  /** The reader of these records (`read`'s) is done with them, bytes included (disk-reads.ts). */
  release(records: readonly QueueRecord[]): void {
    this.#disk.release(records);
  }

  /** The `received` time of the oldest queued event, or undefined when the queue is empty. */
  async oldestReceived(): Promise<Date | undefined> {
    let oldest: Date | undefined;
    for (const lane of LANES) {
      const records = await this.read(lane, null, 1);
      // The first event's `received`, read from the stored text without parsing the record.
      const received = records[0] ? firstReceived(records[0].data) : undefined;
      this.release(records);
      if (received && (!oldest || new Date(received) < oldest)) oldest = new Date(received);
    }
    return oldest;
  }

  /** Deletes acked records. Records already evicted are skipped (and not counted twice). */
  remove(records: readonly RecordRef[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.#serial(async () => {
      await this.#recoverWrites();
      // A record in the tail is on disk; only the others need a look (SPEC §5: evicted in flight).
      const unsure = records.filter((r) => !this.#tail.has(r.lane, r.key));
      // Whether they are there, not their values: a value is a copy of the record's bytes.
      const found = unsure.length > 0 ? await this.#db.hasMany(unsure.map((r) => r.key)) : [];
      const absent = new Set(unsure.filter((_, i) => !found[i]).map((r) => r.key));
      const ops: Op[] = [];
      const gone: RecordRef[] = [];
      const before = this.#counters.save();
      for (const record of records) {
        if (absent.has(record.key)) continue;
        // The same record twice in one call is deleted and counted once.
        absent.add(record.key);
        ops.push({ type: 'del', key: record.key });
        gone.push(record);
        this.#counters.add(record.lane, record.count, record.bytes, -1);
      }
      if (ops.length === 0) return;
      ops.push(this.#counters.statsOp());
      try {
        // SPEC §3: an ack's deletes are not synced; the next synced append makes them durable.
        await this.#write(ops, false);
      } catch (error) {
        this.#counters.restore(before);
        if (this.#reopenAfter === 0) this.#reopenAfter = Date.now() + 1000;
        throw describeWriteError(error);
      }
      for (const record of gone) this.#packer.recycle(this.#tail.drop(record.lane, record.key));
    });
  }

  /** One atomic batch (SPEC §3); record values are bytes, which the string-typed db takes per op. */
  #write(ops: Op[], sync = this.#options.sync): Promise<void> {
    type Ops = BatchOperation<ClassicLevel<string, string>, string, string>[];
    return this.#db.batch(ops as unknown as Ops, { sync });
  }

  /** Writes what is pending, then closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#immediate) {
      clearImmediate(this.#immediate);
      this.#immediate = undefined;
    }
    await this.#serial(() => this.#flush());
    await this.#db.close();
  }
}
