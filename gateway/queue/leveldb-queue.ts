/**
 * The gateway's durable event queue on LevelDB (format: gateway/queue/SPEC.md). An event is
 * durable once `append` resolves; only then may a source acknowledge it to a device. Appends
 * arriving close together are gathered into one write (group commit) and packed many events to
 * a record, because LevelDB's cost is per entry, not per byte. The depth counters live in the
 * database and change in the same atomic batch as the records, so opening is O(1) whatever the
 * backlog, and a disk cap is enforced by evicting the oldest telemetry, then the oldest
 * security records, never alerts. The records written since the forwarder last caught up stay in
 * memory too (a bounded tail per lane), so a forwarder that keeps up takes them from there instead
 * of reading back from LevelDB what was just written; what is on disk does not change.
 */
import { EventEmitter } from 'node:events';
import { renameSync } from 'node:fs';
import { type BatchOperation, ClassicLevel } from 'classic-level';
import {
  EVENT_SCHEMA_VERSION,
  type Event,
  eventId,
  type PendingEvent,
} from '../../protocols/event/schema.ts';
import {
  decodeRecord,
  describeOpenError,
  describeWriteError,
  encodeEvents,
  firstReceived,
  keyLane,
  lanePrefix,
  makeRecord,
  RECORD_PREFIX,
  recordKey,
} from './records.ts';
import { type EvictionReport, planEvictions } from './evictions.ts';
import { RecordTail } from './tail.ts';
import { LANES, type Lane, laneOf, type LaneCounts, type QueueDepth, type QueueRecord } from './types.ts';

export { LANES, type Lane, laneOf, type QueueDepth, type QueueRecord } from './types.ts';
export { type EvictionReport, QueueFullError } from './evictions.ts';

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
}

const SEQ_KEY = 'm!next_seq';
const STATS_KEY = 'm!stats';
/** Bytes of written records kept in memory for the forwarder (the tail); older ones are read from disk. */
const TAIL_MAX_BYTES = 4 * 1024 * 1024;

/** Set on every event of one append, as it is written (the pipeline's clock offset). */
export interface AppendStamp {
  clockOffsetMs?: number;
}

type Pending = {
  events: PendingEvent[];
  stamp: AppendStamp | undefined;
  resolve: (events: Event[]) => void;
  reject: (error: Error) => void;
};
type Op =
  | { type: 'put'; key: string; value: string }
  // Record values are bytes (records.ts encodeEvents); the counters stay text.
  | { type: 'put'; key: string; value: Buffer; valueEncoding: 'buffer' }
  | { type: 'del'; key: string };
/** Record values are read as bytes: no large strings on the heap (records.ts). */
const AS_BYTES = { valueEncoding: 'buffer' } as const;

const emptyCounts = (): LaneCounts => ({ records: 0, events: 0, bytes: 0 });
const emptyDepth = (): QueueDepth => ({
  records: 0,
  events: 0,
  bytes: 0,
  byLane: { alert: 0, security: 0, telemetry: 0 },
  bytesByLane: { alert: 0, security: 0, telemetry: 0 },
  evicted: { security: 0, telemetry: 0 },
});

export class LevelQueue extends EventEmitter<{ append: []; evicted: [EvictionReport] }> {
  readonly #db: ClassicLevel<string, string>;
  readonly #options: LevelQueueOptions;
  #nextSeq = 1;
  #pending: Pending[] = [];
  #pendingCount = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Every mutation runs on this chain, one at a time, so counters and records never disagree. */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #corrupt = 0;
  /** LevelDB keeps a failed write's error forever; after one, the database is reopened (SPEC §9). */
  #reopenAfter = 0;
  #lanes: Record<Lane, LaneCounts> = {
    alert: emptyCounts(),
    security: emptyCounts(),
    telemetry: emptyCounts(),
  };
  #evicted = { security: 0, telemetry: 0 };
  readonly #tail = new RecordTail(TAIL_MAX_BYTES);

  private constructor(db: ClassicLevel<string, string>, options: LevelQueueOptions) {
    super();
    this.#db = db;
    this.#options = options;
  }

  static async open(options: LevelQueueOptions): Promise<LevelQueue> {
    const db = new ClassicLevel<string, string>(options.dir, {
      valueEncoding: 'utf8',
      // Small caches: a Pi has little RAM, and the queue is read once, in order (SPEC §2).
      cacheSize: 2 * 1024 * 1024,
      writeBufferSize: 2 * 1024 * 1024,
      // LevelDB maps every open table file into memory (up to 1,000 on 64-bit), and the pages a
      // drain reads stay resident, so RSS grew with the backlog. A small table cache bounds it.
      maxOpenFiles: 32,
    });
    await db.open();
    const queue = new LevelQueue(db, options);
    await queue.#load();
    return queue;
  }

  /**
   * Opens the queue, recovering from a corrupt database instead of refusing to start (SPEC §8):
   * first LevelDB's own repair, which keeps every record it can still read; if the database
   * still does not open, it is moved aside (kept for forensics) and a fresh one is created.
   * What happened is returned so that the gateway can report it to central.
   */
  static async openOrRecover(options: LevelQueueOptions): Promise<{
    queue: LevelQueue;
    recovery?: { action: 'repaired' | 'moved_aside'; error: string; movedTo?: string };
  }> {
    try {
      return { queue: await LevelQueue.open(options) };
    } catch (error) {
      const message = describeOpenError(error);
      if (/lock|already held|EACCES|EPERM/i.test(message))
        throw new Error(`cannot open the queue: ${message}`);
      try {
        await ClassicLevel.repair(options.dir);
        return { queue: await LevelQueue.open(options), recovery: { action: 'repaired', error: message } };
      } catch {
        const movedTo = `${options.dir}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        renameSync(options.dir, movedTo);
        return {
          queue: await LevelQueue.open(options),
          recovery: { action: 'moved_aside', error: message, movedTo },
        };
      }
    }
  }

  async #load(): Promise<void> {
    await this.#resetTail();
    const [seq, stats] = await this.#db.getMany([SEQ_KEY, STATS_KEY]);
    this.#nextSeq = seq === undefined ? 1 : Number(seq);
    if (stats !== undefined) {
      const parsed = JSON.parse(stats) as {
        lanes: Record<Lane, LaneCounts>;
        evicted: { security: number; telemetry: number };
      };
      this.#lanes = parsed.lanes;
      this.#evicted = parsed.evicted;
      return;
    }
    // Format-1 databases without stats (or a lost stats key): count once, streaming.
    for await (const [key, value] of this.#db.iterator<string, Buffer>({
      gte: RECORD_PREFIX,
      lt: 'q~',
      ...AS_BYTES,
    })) {
      const record = decodeRecord(key, value);
      if (!record) {
        this.#corrupt += 1;
        continue;
      }
      this.#add(record.lane, record.count, record.bytes, +1);
      const last = record.firstSeq + record.count - 1;
      if (last >= this.#nextSeq) this.#nextSeq = last + 1;
    }
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
    const depth = emptyDepth();
    for (const lane of LANES) {
      const c = this.#lanes[lane];
      depth.records += c.records;
      depth.events += c.events;
      depth.bytes += c.bytes;
      depth.byLane[lane] = c.events;
      depth.bytesByLane[lane] = c.bytes;
    }
    depth.evicted = { ...this.#evicted };
    return depth;
  }

  /** Records found unreadable (SPEC §6): skipped, never sent, reported in /metrics. */
  get corruptRecords(): number {
    return this.#corrupt;
  }

  /** The sequence the next event will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Makes events durable and gives them their identity; resolves after the write is on disk. */
  append(events: PendingEvent[], stamp?: AppendStamp): Promise<Event[]> {
    if (this.#closed) return Promise.reject(new Error('queue is closed'));
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#pending.push({ events, stamp, resolve, reject });
      this.#pendingCount += events.length;
      const now = this.#pendingCount >= this.#options.maxRecordEvents || this.#options.flushIntervalMs === 0;
      this.#flushSoon(now ? 0 : this.#options.flushIntervalMs);
    });
  }

  #flushSoon(delayMs: number): void {
    if (this.#timer && delayMs > 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#serial(() => this.#flush());
    }, delayMs);
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
    if (batch.length === 0) return;
    let seq = this.#nextSeq;
    const gateway = this.#options.gateway;
    const byLane = new Map<Lane, Event[]>();
    const assigned = batch.map((item) => {
      const offset = item.stamp?.clockOffsetMs;
      return item.events.map((pending) => {
        const id = eventId(gateway, seq);
        // Literals (not properties added to a clone, which leaves objects V8 stores and
        // serialises slowly); the offset is stamped here rather than on a copy in the pipeline.
        const event: Event =
          offset === undefined
            ? { v: EVENT_SCHEMA_VERSION, id, gateway, seq, ...pending }
            : { v: EVENT_SCHEMA_VERSION, id, gateway, seq, ...pending, clock_offset_ms: offset };
        seq += 1;
        const lane = laneOf(event);
        const list = byLane.get(lane);
        if (list) list.push(event);
        else byLane.set(lane, [event]);
        return event;
      });
    });
    const ops: Op[] = [];
    const added: QueueRecord[] = [];
    for (const [lane, events] of byLane) {
      for (let i = 0; i < events.length; i += this.#options.maxRecordEvents) {
        const chunk =
          events.length <= this.#options.maxRecordEvents
            ? events
            : events.slice(i, i + this.#options.maxRecordEvents);
        const value = encodeEvents(chunk);
        const key = recordKey(lane, chunk[0]!.seq, chunk.length);
        ops.push({ type: 'put', key, value, ...AS_BYTES });
        added.push(makeRecord(key, lane, chunk[0]!.seq, chunk.length, value));
      }
    }
    const newBytes = added.reduce((sum, a) => sum + a.bytes, 0);
    let evictions: EvictionReport[] = [];
    try {
      evictions = await planEvictions(this.#db, this.#lanes, this.#options.maxSizeBytes ?? 0, newBytes, ops);
    } catch (error) {
      for (const item of batch) item.reject(error as Error);
      return;
    }
    const before = structuredClone({ lanes: this.#lanes, evicted: this.#evicted });
    for (const a of added) this.#add(a.lane, a.count, a.bytes, +1);
    for (const e of evictions) {
      this.#add(e.lane, e.events, e.bytes, -1, e.records);
      this.#evicted[e.lane] += e.events;
    }
    ops.push({ type: 'put', key: SEQ_KEY, value: String(seq) }, this.#statsOp());
    try {
      await this.#write(ops);
    } catch (error) {
      this.#lanes = before.lanes;
      this.#evicted = before.evicted;
      // Schedule a reopen once; frequent failing writes must not keep pushing it back.
      if (this.#reopenAfter === 0) this.#reopenAfter = Date.now() + 1000;
      for (const item of batch) item.reject(describeWriteError(error));
      return;
    }
    this.#nextSeq = seq;
    // Evicted records (the batch's deletes) leave the tail too.
    for (const op of ops) if (op.type === 'del') this.#tail.drop(keyLane(op.key), op.key);
    for (const record of added) this.#tail.add(record);
    batch.forEach((item, i) => item.resolve(assigned[i]!));
    for (const e of evictions) this.emit('evicted', e);
    this.emit('append');
  }

  /** Up to `limit` records of one lane whose key is after `afterKey`, oldest first. */
  async read(lane: Lane, afterKey: string | null, limit: number): Promise<QueueRecord[]> {
    const prefix = lanePrefix(lane);
    const out: QueueRecord[] = [];
    // Past the start of the tail, the tail is what the disk holds: no read needed.
    const inMemory = this.#tail.readAfter(lane, afterKey, limit);
    if (inMemory) return inMemory;
    const range = afterKey
      ? { gt: afterKey, lt: `${prefix}~`, limit }
      : { gte: prefix, lt: `${prefix}~`, limit };
    for await (const [key, value] of this.#db.iterator<string, Buffer>({ ...range, ...AS_BYTES })) {
      const record = decodeRecord(key, value);
      if (record) out.push(record);
      else this.#corrupt += 1;
    }
    return out;
  }

  /** The `received` time of the oldest queued event, or undefined when the queue is empty. */
  async oldestReceived(): Promise<Date | undefined> {
    let oldest: Date | undefined;
    for (const lane of LANES) {
      const [record] = await this.read(lane, null, 1);
      // The first event's `received`, read from the stored text without parsing the record.
      const received = record ? firstReceived(record.data) : undefined;
      if (received && (!oldest || new Date(received) < oldest)) oldest = new Date(received);
    }
    return oldest;
  }

  /** Deletes acked records. Records already evicted are skipped (and not counted twice). */
  remove(records: readonly QueueRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.#serial(async () => {
      await this.#recoverWrites();
      // A record in the tail is on disk; only the others need a look (SPEC §5: evicted in flight).
      const unsure = records.filter((r) => !this.#tail.has(r.lane, r.key));
      const found = unsure.length > 0 ? await this.#db.getMany(unsure.map((r) => r.key)) : [];
      const absent = new Set(unsure.filter((_, i) => found[i] === undefined).map((r) => r.key));
      const ops: Op[] = [];
      const gone: QueueRecord[] = [];
      const before = structuredClone(this.#lanes);
      for (const record of records) {
        if (absent.has(record.key)) continue;
        // The same record twice in one call is deleted and counted once.
        absent.add(record.key);
        ops.push({ type: 'del', key: record.key });
        gone.push(record);
        this.#add(record.lane, record.count, record.bytes, -1);
      }
      if (ops.length === 0) return;
      ops.push(this.#statsOp());
      try {
        // SPEC §3: an ack's deletes are not synced; the next synced append makes them durable.
        await this.#write(ops, false);
      } catch (error) {
        this.#lanes = before;
        if (this.#reopenAfter === 0) this.#reopenAfter = Date.now() + 1000;
        throw describeWriteError(error);
      }
      for (const record of gone) this.#tail.drop(record.lane, record.key);
    });
  }

  /** One atomic batch (SPEC §3); record values are bytes, which the string-typed db takes per op. */
  #write(ops: Op[], sync = this.#options.sync): Promise<void> {
    type Ops = BatchOperation<ClassicLevel<string, string>, string, string>[];
    return this.#db.batch(ops as unknown as Ops, { sync });
  }

  #add(lane: Lane, events: number, bytes: number, sign: 1 | -1, records = 1): void {
    const c = this.#lanes[lane];
    c.records += sign * records;
    c.events += sign * events;
    c.bytes += sign * bytes;
  }

  #statsOp(): Op {
    return {
      type: 'put',
      key: STATS_KEY,
      value: JSON.stringify({ lanes: this.#lanes, evicted: this.#evicted }),
    };
  }

  /** Writes what is pending, then closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    await this.#serial(() => this.#flush());
    await this.#db.close();
  }
}
