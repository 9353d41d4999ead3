/**
 * The queue's keys and values (gateway/queue/SPEC.md §1–2): record keys ordered by lane and
 * sequence with the event count in them, record values written and read as bytes (the UTF-8 JSON
 * text of the events), records decoded lazily, and
 * LevelDB's terse errors turned into messages a person can act on.
 */
import type { Event } from '../../protocols/event/schema.ts';
import { JsonBytesWriter } from '../../server-shared/json-bytes.ts';
import { LANES, type Lane, type QueueRecord } from './types.ts';

export const RECORD_PREFIX = 'q!';
const SEQ_WIDTH = 16;

export function lanePrefix(lane: Lane): string {
  return `${RECORD_PREFIX}${LANES.indexOf(lane)}!`;
}

export function recordKey(lane: Lane, firstSeq: number, count: number): string {
  return `${lanePrefix(lane)}${String(firstSeq).padStart(SEQ_WIDTH, '0')}!${count}`;
}

/** The lane of a record key (`q!<lane>!...`). */
export function keyLane(key: string): Lane {
  return LANES[Number(key.charAt(RECORD_PREFIX.length))] ?? 'telemetry';
}

/**
 * A record as read from disk. The events stay as the UTF-8 JSON bytes they were stored as: the
 * forwarder splices those bytes into a batch without parsing them (SPEC §2), which is what keeps
 * memory flat and the drain fast; `events` parses on first use only.
 */
export function decodeRecord(key: string, value: Uint8Array): QueueRecord | undefined {
  const match = /^q!(\d)!(\d{16})!(\d+)$/.exec(key);
  const lane = match ? LANES[Number(match[1])] : undefined;
  if (!match || !lane || value[0] !== OPEN || value[value.length - 1] !== CLOSE) return undefined;
  return makeRecord(key, lane, Number(match[2]), Number(match[3]), value);
}

/** A record from its parts (what the queue just wrote, or what `decodeRecord` read). */
export function makeRecord(
  key: string,
  lane: Lane,
  firstSeq: number,
  count: number,
  data: Uint8Array,
): QueueRecord {
  let parsed: Event[] | undefined;
  return {
    key,
    lane,
    firstSeq,
    count,
    bytes: data.length,
    data,
    get events(): Event[] {
      parsed ??= JSON.parse(
        Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8'),
      ) as Event[];
      return parsed;
    },
  };
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c;
/** Kept between calls up to this size, so that most records are written without allocating. */
const SCRATCH_KEEP_BYTES = 1024 * 1024;
let scratch: Buffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A record value: the UTF-8 bytes of `JSON.stringify(events)`, written straight into a scratch
 * buffer (server-shared/json-bytes.ts): neither one large string (old space, full collections) nor
 * a string per event (about 2 KB of young garbage per event, issue 18) is made; the bytes live
 * outside the heap.
 */
export function encodeEvents(events: readonly unknown[]): Buffer {
  const w = new JsonBytesWriter(scratch);
  w.byte(OPEN);
  for (let i = 0; i < events.length; i++) {
    if (i > 0) w.byte(COMMA);
    if (!w.value(events[i])) w.raw('null');
  }
  w.byte(CLOSE);
  if (w.buf !== scratch && w.buf.length <= SCRATCH_KEEP_BYTES) scratch = w.buf;
  return Buffer.from(w.buf.subarray(0, w.n));
}

/** The `received` text of the first event of a record, read from its bytes without parsing it. */
export function firstReceived(data: Uint8Array): string | undefined {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  // The first `"received":"<at least one character>"`, as the regex /"received":"([^"]+)"/ finds it.
  for (let at = bytes.indexOf(RECEIVED); at >= 0; at = bytes.indexOf(RECEIVED, at + 1)) {
    const start = at + RECEIVED.length;
    const end = bytes.indexOf(0x22, start);
    if (end < 0) return undefined;
    if (end > start) return bytes.toString('utf8', start, end);
  }
  return undefined;
}
const RECEIVED = Buffer.from('"received":"');

export function describeOpenError(error: unknown): string {
  const e = error as { message?: string; cause?: { message?: string } };
  return [e.message, e.cause?.message].filter(Boolean).join(': ') || String(error);
}

/** LevelDB's write errors are terse ("IO error"); name the likely cause when it is a full disk. */
export function describeWriteError(error: unknown): Error {
  const message = describeOpenError(error);
  const full = /No space left|ENOSPC/i.test(message);
  return new Error(full ? `disk full: ${message}` : `queue write failed: ${message}`);
}
