/**
 * The gateway's durable event queue on LevelDB (format: gateway/queue/SPEC.md). An event is
 * durable once `append` resolves; only then may a source acknowledge it to a device. Appends
 * arriving close together are gathered into one write (group commit) and packed many events to
 * a record, because LevelDB's cost is per entry, not per byte. The depth counters live in the
 * database and change in the same atomic batch as the records, so opening is O(1) whatever the
 * backlog, and a disk cap is enforced by evicting the oldest telemetry, then the oldest
 * security records, never alerts.
 */
import { EventEmitter } from 'node:events';
import { renameSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
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
  lanePrefix,
  RECORD_PREFIX,
  recordKey,
} from './records.ts';
import { LANES, type Lane, laneOf, type LaneCounts, type QueueDepth, type QueueRecord } from './types.ts';

export { LANES, type Lane, laneOf, type QueueDepth, type QueueRecord } from './types.ts';

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

/** Thrown to appenders when the cap is reached and only alerts are left to keep (SPEC §7). */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

export interface EvictionReport {
  lane: Exclude<Lane, 'alert'>;
  records: number;
  events: number;
  bytes: number;
}

const SEQ_KEY = 'm!next_seq';
const STATS_KEY = 'm!stats';

type Pending = { events: PendingEvent[]; resolve: (events: Event[]) => void; reject: (error: Error) => void };
type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

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
    for await (const [key, value] of this.#db.iterator({ gte: RECORD_PREFIX, lt: 'q~' })) {
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
  append(events: PendingEvent[]): Promise<Event[]> {
    if (this.#closed) return Promise.reject(new Error('queue is closed'));
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#pending.push({ events, resolve, reject });
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
    const byLane = new Map<Lane, Event[]>();
    const assigned = batch.map((item) =>
      item.events.map((pending) => {
        const event: Event = {
          v: EVENT_SCHEMA_VERSION,
          id: eventId(this.#options.gateway, seq),
          gateway: this.#options.gateway,
          seq,
          ...pending,
        };
        seq += 1;
        const lane = laneOf(event);
        const list = byLane.get(lane);
        if (list) list.push(event);
        else byLane.set(lane, [event]);
        return event;
      }),
    );
    const ops: Op[] = [];
    const added: Array<{ lane: Lane; events: number; bytes: number }> = [];
    for (const [lane, events] of byLane) {
      for (let i = 0; i < events.length; i += this.#options.maxRecordEvents) {
        const chunk = events.slice(i, i + this.#options.maxRecordEvents);
        const value = JSON.stringify(chunk);
        ops.push({ type: 'put', key: recordKey(lane, chunk[0]!.seq, chunk.length), value });
        added.push({ lane, events: chunk.length, bytes: Buffer.byteLength(value) });
      }
    }
    const newBytes = added.reduce((sum, a) => sum + a.bytes, 0);
    let evictions: EvictionReport[] = [];
    try {
      evictions = await this.#planEvictions(newBytes, ops);
    } catch (error) {
      for (const item of batch) item.reject(error as Error);
      return;
    }
    const before = structuredClone({ lanes: this.#lanes, evicted: this.#evicted });
    for (const a of added) this.#add(a.lane, a.events, a.bytes, +1);
    for (const e of evictions) {
      this.#add(e.lane, e.events, e.bytes, -1, e.records);
      this.#evicted[e.lane] += e.events;
    }
    ops.push({ type: 'put', key: SEQ_KEY, value: String(seq) }, this.#statsOp());
    try {
      await this.#db.batch(ops, { sync: this.#options.sync });
    } catch (error) {
      this.#lanes = before.lanes;
      this.#evicted = before.evicted;
      // Schedule a reopen once; frequent failing writes must not keep pushing it back.
      if (this.#reopenAfter === 0) this.#reopenAfter = Date.now() + 1000;
      for (const item of batch) item.reject(describeWriteError(error));
      return;
    }
    this.#nextSeq = seq;
    batch.forEach((item, i) => item.resolve(assigned[i]!));
    for (const e of evictions) this.emit('evicted', e);
    this.emit('append');
  }

  /**
   * SPEC §7: makes room for `newBytes` by deleting (adding `del` ops for) the oldest telemetry,
   * then the oldest security records. Alerts are never evicted; if they alone leave no room,
   * the append is refused with QueueFullError.
   */
  async #planEvictions(newBytes: number, ops: Op[]): Promise<EvictionReport[]> {
    const cap = this.#options.maxSizeBytes ?? 0;
    const total = LANES.reduce((sum, lane) => sum + this.#lanes[lane].bytes, 0);
    let excess = cap > 0 ? total + newBytes - cap : 0;
    if (excess <= 0) return [];
    if (this.#lanes.alert.bytes + newBytes > cap) {
      throw new QueueFullError(
        `queue is full (${cap} bytes) and only alerts are left to keep; refusing ${newBytes} new bytes`,
      );
    }
    const reports: EvictionReport[] = [];
    for (const lane of ['telemetry', 'security'] as const) {
      const report: EvictionReport = { lane, records: 0, events: 0, bytes: 0 };
      const prefix = lanePrefix(lane);
      for await (const [key, value] of this.#db.iterator({ gte: prefix, lt: `${prefix}~` })) {
        if (excess <= 0) break;
        const record = decodeRecord(key, value);
        ops.push({ type: 'del', key });
        const bytes = record?.bytes ?? Buffer.byteLength(value);
        report.records += 1;
        report.events += record?.count ?? 0;
        report.bytes += bytes;
        excess -= bytes;
      }
      if (report.records > 0) reports.push(report);
      if (excess <= 0) break;
    }
    return reports;
  }

  /** Up to `limit` records of one lane whose key is after `afterKey`, oldest first. */
  async read(lane: Lane, afterKey: string | null, limit: number): Promise<QueueRecord[]> {
    const prefix = lanePrefix(lane);
    const out: QueueRecord[] = [];
    const range = afterKey
      ? { gt: afterKey, lt: `${prefix}~`, limit }
      : { gte: prefix, lt: `${prefix}~`, limit };
    for await (const [key, value] of this.#db.iterator(range)) {
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
      const received = record ? /"received":"([^"]+)"/.exec(record.json)?.[1] : undefined;
      if (received && (!oldest || new Date(received) < oldest)) oldest = new Date(received);
    }
    return oldest;
  }

  /** Deletes acked records. Records already evicted are skipped (and not counted twice). */
  remove(records: readonly QueueRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.#serial(async () => {
      await this.#recoverWrites();
      const present = await this.#db.getMany(records.map((r) => r.key));
      const ops: Op[] = [];
      const before = structuredClone(this.#lanes);
      records.forEach((record, i) => {
        if (present[i] === undefined) return;
        ops.push({ type: 'del', key: record.key });
        this.#add(record.lane, record.count, record.bytes, -1);
      });
      if (ops.length === 0) return;
      ops.push(this.#statsOp());
      try {
        await this.#db.batch(ops, { sync: this.#options.sync });
      } catch (error) {
        this.#lanes = before;
        if (this.#reopenAfter === 0) this.#reopenAfter = Date.now() + 1000;
        throw describeWriteError(error);
      }
    });
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
