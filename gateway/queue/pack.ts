/**
 * Group commit, the packing half (SPEC §2): the appends gathered since the last write become
 * events with their identity (`<gateway>:<seq>`, sequences in arrival order) and records of at
 * most `maxRecordEvents` events per lane, as puts for one atomic batch. LevelDB's cost is per
 * entry, so a record carries many events.
 */
import {
  EVENT_SCHEMA_VERSION,
  type Event,
  eventId,
  type PendingEvent,
} from '../../protocols/event/schema.ts';
import { encodeEvents, makeRecord, recordKey } from './records.ts';
import { type Lane, laneOf, type QueueRecord } from './types.ts';

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

/** One `append` call waiting for the next write. */
export type PendingAppend = {
  events: PendingEvent[];
  stamp: AppendStamp | undefined;
  resolve: (events: Event[]) => void;
  reject: (error: Error) => void;
};

/** A batch operation; record values are bytes (records.ts encodeEvents), the counters text. */
export type Op =
  | { type: 'put'; key: string; value: string }
  | { type: 'put'; key: string; value: Buffer; valueEncoding: 'buffer' }
  | { type: 'del'; key: string };

/** Record values are read and written as bytes: no large strings on the heap (records.ts). */
export const AS_BYTES = { valueEncoding: 'buffer' } as const;

export interface Packed {
  /** The events of each append, in the order of `appends`. */
  assigned: Event[][];
  /** The records, in the order of `ops`. */
  added: QueueRecord[];
  ops: Op[];
  /** The sequence after the last one given. */
  nextSeq: number;
}

export function packAppends(
  appends: readonly PendingAppend[],
  firstSeq: number,
  gateway: string,
  maxRecordEvents: number,
): Packed {
  let seq = firstSeq;
  const byLane = new Map<Lane, Event[]>();
  const assigned = appends.map((item) => {
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
  // In append order, so that a later append's state for a key wins.
  for (const item of appends)
    for (const [key, value] of Object.entries(item.stamp?.state ?? {}))
      ops.push(
        value === null
          ? { type: 'del', key: STATE_PREFIX + key }
          : { type: 'put', key: STATE_PREFIX + key, value },
      );
  for (const [lane, events] of byLane) {
    for (let i = 0; i < events.length; i += maxRecordEvents) {
      const chunk = events.length <= maxRecordEvents ? events : events.slice(i, i + maxRecordEvents);
      const value = encodeEvents(chunk);
      const key = recordKey(lane, chunk[0]!.seq, chunk.length);
      ops.push({ type: 'put', key, value, ...AS_BYTES });
      added.push(makeRecord(key, lane, chunk[0]!.seq, chunk.length, value));
    }
  }
  return { assigned, added, ops, nextSeq: seq };
}
