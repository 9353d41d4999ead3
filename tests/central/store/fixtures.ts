/**
 * Event builders for the store conformance suite. Every test works on its own gateways (unique
 * per run) and, where it queries across gateways, on its own 20-minute slice of time, so the
 * tests of one suite share a store without seeing each other's events.
 */
import { randomBytes } from 'node:crypto';
import { type Event, type EventInput, eventSchema } from '../../../protocols/event/schema.ts';

const DAY_MS = 86_400_000;
const RUN = randomBytes(3).toString('hex');
let gateways = 0;
let slices = 0;

/** A gateway id no other test (of this run or a concurrent one) uses. */
export function uniqueGateway(label: string): string {
  gateways += 1;
  return `${label}-${RUN}-${gateways}`;
}

export function startOfUtcDay(date: Date): number {
  return Math.floor(date.getTime() / DAY_MS) * DAY_MS;
}

/**
 * Start of a fresh 20-minute slice of time, inside the partition window around `now`
 * (from 5 days back), unused by any other test of this run.
 */
export function timeSlice(now: Date = new Date()): number {
  slices += 1;
  return startOfUtcDay(now) - 5 * DAY_MS + slices * 20 * 60_000;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A valid event, parsed by the real schema; `overrides` may set any field. */
export function makeEvent(
  gateway: string,
  seq: number,
  ts: string,
  overrides: Partial<EventInput> = {},
): Event {
  return eventSchema.parse({
    v: 1,
    id: `${gateway}:${seq}`,
    gateway,
    seq,
    ts,
    received: ts,
    source: 'syslog',
    kind: 'telemetry',
    action: 'syslog.message',
    severity: 6,
    message: `event ${seq}`,
    ...overrides,
  });
}

/** Microseconds since the epoch of an ISO timestamp (Date.parse stops at ms). */
export function micros(ts: string): number {
  const digits = /\.(\d+)/.exec(ts)?.[1] ?? '';
  return Date.parse(ts) * 1000 + Number(digits.slice(3, 6).padEnd(3, '0'));
}

/** Expected listing order: ts DESC, gateway DESC (byte order), seq DESC. */
export function newestFirst(a: Event, b: Event): number {
  const ta = micros(a.ts);
  const tb = micros(b.ts);
  if (ta !== tb) return tb - ta;
  if (a.gateway !== b.gateway) return a.gateway < b.gateway ? 1 : -1;
  return b.seq - a.seq;
}

/** Every event of the store matching `query`, following cursors page by page. */
export async function drain(
  query: (cursor: string | undefined) => Promise<{ events: Event[]; nextCursor: string | null }>,
): Promise<{ events: Event[]; pages: number[] }> {
  const events: Event[] = [];
  const pages: number[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await query(cursor);
    events.push(...page.events);
    pages.push(page.events.length);
    if (page.nextCursor === null) return { events, pages };
    if (pages.length > 10_000) throw new Error('pagination does not end');
    cursor = page.nextCursor;
  }
}
