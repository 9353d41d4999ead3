/**
 * The queue's lanes and the shapes it reports. Lanes carry events by priority: alerts first,
 * then security events (and the gateway's own health reports), then telemetry.
 */
import type * as Api from '../../protocols/api/gateway.ts';
import { type Event, eventId } from '../../protocols/event/schema.ts';

export const LANES = ['alert', 'security', 'telemetry'] as const;
export type Lane = (typeof LANES)[number];

/** Which lane an event travels in (priority order: alert > security > telemetry). */
export function laneOf(event: Pick<Event, 'kind' | 'source'> & { tags?: readonly string[] }): Lane {
  if (event.kind === 'alert') return 'alert';
  // The pipeline's route stage (and alert evidence) name a lane: a `lane:<name>` tag.
  const tags = event.tags;
  if (tags && tags.length > 0) {
    for (const t of tags) {
      if (t === 'lane:alert') return 'alert';
      if (t === 'lane:security') return 'security';
      if (t === 'lane:telemetry') return 'telemetry';
    }
  }
  // The gateway's own health reports (evictions, refused input) must survive the evictions they report.
  if (event.kind === 'health' && event.source === 'gateway') return 'alert';
  if (event.kind === 'security' || event.kind === 'audit' || event.kind === 'health') return 'security';
  return 'telemetry';
}

/**
 * The ids of events queued together, each made when asked. The queue gives one call's events
 * consecutive sequences, so a range names them all without a string per event: alert evidence
 * keeps the ids of the last 20,000 events, and a string each outlived the young generation
 * (heap snapshots of the syslog path: 40,000 of its 340,000 objects).
 */
export interface EventIds extends Iterable<string> {
  readonly length: number;
  at(k: number): string;
}

class IdRange implements EventIds {
  constructor(
    readonly gateway: string,
    readonly first: number,
    readonly length: number,
  ) {}
  at(k: number): string {
    return eventId(this.gateway, this.first + k);
  }
  *[Symbol.iterator](): Iterator<string> {
    for (let k = 0; k < this.length; k++) yield this.at(k);
  }
}

class IdList implements EventIds {
  constructor(private readonly ids: readonly string[]) {}
  get length(): number {
    return this.ids.length;
  }
  at(k: number): string {
    return this.ids[k]!;
  }
  [Symbol.iterator](): Iterator<string> {
    return this.ids[Symbol.iterator]();
  }
}

/** `<gateway>:<first>` … `<gateway>:<first + count - 1>`. */
export const idRange = (gateway: string, first: number, count: number): EventIds =>
  new IdRange(gateway, first, count);

/** Ids given one by one (replay, tests). */
export const idList = (ids: readonly string[]): EventIds => new IdList(ids);

export const NO_IDS: EventIds = idList([]);

/** What `enqueue` answers: the events' ids at once, and a promise that resolves once they are durable. */
export interface Enqueued {
  ids: EventIds;
  durable: Promise<void>;
}

export interface QueueRecord {
  key: string;
  lane: Lane;
  firstSeq: number;
  count: number;
  bytes: number;
  /** The stored value: the UTF-8 JSON text of an array of `count` events (`bytes` long). */
  data: Uint8Array;
  /** The events, parsed on first use. */
  readonly events: Event[];
}

/**
 * What deleting a record needs of it: no bytes. The forwarder keeps this of each record in flight,
 * so the bytes read back from disk die young instead of living in V8's old space until the ack.
 */
export type RecordRef = Pick<QueueRecord, 'key' | 'lane' | 'count' | 'bytes'>;

/** A record's reference without its bytes (see RecordRef). */
export function recordRef(r: RecordRef): RecordRef {
  return { key: r.key, lane: r.lane, count: r.count, bytes: r.bytes };
}

export interface LaneCounts {
  records: number;
  events: number;
  bytes: number;
}

/** What `depth` answers: the contract's (protocols/api/gateway.ts), since `/api/status` shows it as is. */
export type QueueDepth = Api.QueueDepth;
