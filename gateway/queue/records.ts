/**
 * The queue's keys and values (gateway/queue/SPEC.md §1–2): record keys ordered by lane and
 * sequence with the event count in them, records decoded lazily from their stored JSON text, and
 * LevelDB's terse errors turned into messages a person can act on.
 */
import type { Event } from '../../protocols/event/schema.ts';
import { LANES, type Lane, type QueueRecord } from './types.ts';

export const RECORD_PREFIX = 'q!';
const SEQ_WIDTH = 16;

export function lanePrefix(lane: Lane): string {
  return `${RECORD_PREFIX}${LANES.indexOf(lane)}!`;
}

export function recordKey(lane: Lane, firstSeq: number, count: number): string {
  return `${lanePrefix(lane)}${String(firstSeq).padStart(SEQ_WIDTH, '0')}!${count}`;
}

/**
 * A record as read from disk. The events stay as the JSON text they were stored as: the
 * forwarder splices that text into a batch without parsing it (SPEC §2), which is what keeps
 * memory flat and the drain fast; `events` parses on first use only.
 */
export function decodeRecord(key: string, value: string): QueueRecord | undefined {
  const match = /^q!(\d)!(\d{16})!(\d+)$/.exec(key);
  const lane = match ? LANES[Number(match[1])] : undefined;
  if (!match || !lane || value.charAt(0) !== '[' || value.charAt(value.length - 1) !== ']') return undefined;
  let parsed: Event[] | undefined;
  return {
    key,
    lane,
    firstSeq: Number(match[2]),
    count: Number(match[3]),
    bytes: Buffer.byteLength(value),
    json: value,
    get events(): Event[] {
      parsed ??= JSON.parse(value) as Event[];
      return parsed;
    },
  };
}

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
