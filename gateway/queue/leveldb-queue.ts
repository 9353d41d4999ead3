/**
 * The gateway's durable event queue on LevelDB (format: gateway/queue/SPEC.md). An event is
 * durable once `append` resolves; only then may a source acknowledge it to a device. Appends
 * arriving close together are gathered into one write (group commit) and packed many events to
 * a record, because LevelDB's cost is per entry, not per byte. The forwarder reads records in
 * lane priority order, and deletes them only once central has acked them.
 */
import { EventEmitter } from 'node:events';
import { ClassicLevel } from 'classic-level';
import {
  EVENT_SCHEMA_VERSION,
  type Event,
  eventId,
  type PendingEvent,
} from '../../protocols/event/schema.ts';

export const LANES = ['alert', 'security', 'telemetry'] as const;
export type Lane = (typeof LANES)[number];

/** Which lane an event travels in (priority order: alert > security > telemetry). */
export function laneOf(event: Pick<Event, 'kind'>): Lane {
  if (event.kind === 'alert') return 'alert';
  if (event.kind === 'security' || event.kind === 'audit' || event.kind === 'health') return 'security';
  return 'telemetry';
}

export interface QueueRecord {
  key: string;
  lane: Lane;
  events: Event[];
  bytes: number;
}

export interface QueueDepth {
  records: number;
  events: number;
  bytes: number;
  byLane: Record<Lane, number>;
}

export interface LevelQueueOptions {
  dir: string;
  gateway: string;
  /** Events packed into one record. */
  maxRecordEvents: number;
  /** How long to gather appends before one durable write. */
  flushIntervalMs: number;
  sync: boolean;
}

const SEQ_KEY = 'm!next_seq';
const RECORD_PREFIX = 'q!';
const SEQ_WIDTH = 16;

type Pending = { events: PendingEvent[]; resolve: (events: Event[]) => void; reject: (error: Error) => void };

export class LevelQueue extends EventEmitter<{ append: [] }> {
  readonly #db: ClassicLevel<string, string>;
  readonly #options: LevelQueueOptions;
  #nextSeq = 1;
  #pending: Pending[] = [];
  #pendingCount = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  #corrupt = 0;
  readonly #depth: QueueDepth = {
    records: 0,
    events: 0,
    bytes: 0,
    byLane: { alert: 0, security: 0, telemetry: 0 },
  };

  private constructor(db: ClassicLevel<string, string>, options: LevelQueueOptions) {
    super();
    this.#db = db;
    this.#options = options;
  }

  static async open(options: LevelQueueOptions): Promise<LevelQueue> {
    const db = new ClassicLevel<string, string>(options.dir, { valueEncoding: 'utf8' });
    await db.open();
    const queue = new LevelQueue(db, options);
    await queue.#recover();
    return queue;
  }

  /** Rebuilds the depth counters and the next sequence from disk, streaming record by record. */
  async #recover(): Promise<void> {
    const stored = await this.#db.get(SEQ_KEY);
    let next = stored === undefined ? 1 : Number(stored);
    for await (const [key, value] of this.#db.iterator({ gte: RECORD_PREFIX, lt: 'q~' })) {
      const record = decodeRecord(key, value);
      if (!record) {
        this.#corrupt += 1;
        continue;
      }
      this.#count(record, +1);
      const last = record.events.at(-1);
      if (last && last.seq >= next) next = last.seq + 1;
    }
    this.#nextSeq = next;
  }

  get depth(): QueueDepth {
    return { ...this.#depth, byLane: { ...this.#depth.byLane } };
  }

  /** Records found unreadable on open (SPEC §6): skipped, never sent, reported in /metrics. */
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
      if (this.#pendingCount >= this.#options.maxRecordEvents || this.#options.flushIntervalMs === 0) {
        this.#flushSoon(0);
      } else {
        this.#flushSoon(this.#options.flushIntervalMs);
      }
    });
  }

  #flushSoon(delayMs: number): void {
    if (this.#timer && delayMs > 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#writing = this.#writing.then(() => this.#flush());
    }, delayMs);
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingCount = 0;
    if (batch.length === 0) return;
    const byLane = new Map<Lane, Event[]>();
    const assigned: Event[][] = [];
    let seq = this.#nextSeq;
    for (const item of batch) {
      const out: Event[] = [];
      for (const pending of item.events) {
        const event: Event = {
          v: EVENT_SCHEMA_VERSION,
          id: eventId(this.#options.gateway, seq),
          gateway: this.#options.gateway,
          seq,
          ...pending,
        };
        seq += 1;
        out.push(event);
        const lane = laneOf(event);
        const list = byLane.get(lane) ?? [];
        list.push(event);
        byLane.set(lane, list);
      }
      assigned.push(out);
    }
    const records: QueueRecord[] = [];
    const ops: Array<{ type: 'put'; key: string; value: string }> = [];
    for (const [lane, events] of byLane) {
      for (let i = 0; i < events.length; i += this.#options.maxRecordEvents) {
        const chunk = events.slice(i, i + this.#options.maxRecordEvents);
        const value = JSON.stringify(chunk);
        const key = recordKey(lane, chunk[0]!.seq);
        records.push({ key, lane, events: chunk, bytes: Buffer.byteLength(value) });
        ops.push({ type: 'put', key, value });
      }
    }
    ops.push({ type: 'put', key: SEQ_KEY, value: String(seq) });
    try {
      await this.#db.batch(ops, { sync: this.#options.sync });
    } catch (error) {
      for (const item of batch) item.reject(error as Error);
      return;
    }
    this.#nextSeq = seq;
    for (const record of records) this.#count(record, +1);
    batch.forEach((item, i) => {
      item.resolve(assigned[i]!);
    });
    this.emit('append');
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
    }
    return out;
  }

  /** Deletes acked records. */
  async remove(records: readonly QueueRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#db.batch(
      records.map((r) => ({ type: 'del' as const, key: r.key })),
      { sync: this.#options.sync },
    );
    for (const record of records) this.#count(record, -1);
  }

  #count(record: QueueRecord, sign: 1 | -1): void {
    this.#depth.records += sign;
    this.#depth.events += sign * record.events.length;
    this.#depth.bytes += sign * record.bytes;
    this.#depth.byLane[record.lane] += sign * record.events.length;
  }

  /** Writes what is pending, then closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#writing = this.#writing.then(() => this.#flush());
    }
    await this.#writing;
    await this.#db.close();
  }
}

function lanePrefix(lane: Lane): string {
  return `${RECORD_PREFIX}${LANES.indexOf(lane)}!`;
}

function recordKey(lane: Lane, firstSeq: number): string {
  return `${lanePrefix(lane)}${String(firstSeq).padStart(SEQ_WIDTH, '0')}`;
}

function decodeRecord(key: string, value: string): QueueRecord | undefined {
  const laneIndex = Number(key.charAt(RECORD_PREFIX.length));
  const lane = LANES[laneIndex];
  if (!lane) return undefined;
  try {
    const events = JSON.parse(value) as Event[];
    return Array.isArray(events) ? { key, lane, events, bytes: Buffer.byteLength(value) } : undefined;
  } catch {
    return undefined;
  }
}
