/**
 * The skeleton every OT mapper (Modbus, DNP3, S7comm, EtherNet/IP, BACnet, OPC UA) gives its
 * events: `ts` (capture time, else the gateway's) and `received`, what the message was, its
 * device, its fields and tags, and `src`/`dst` from the two peers of the message. One place, so
 * the six cannot drift in how they fill the common keys. Built by assignment, never by object
 * spreads: it runs once per frame on a busy segment, and spreads measured about ten times slower
 * under the project's TypeScript loader. Times are formatted by `isoTime`, which reuses the
 * formatted minute of the previous call: `toISOString` was the largest single cost of a decoded
 * frame (an eighth of EtherNet/IP's, profiled with `node --cpu-prof`).
 */
import type { PendingEvent } from './schema.ts';

/** One peer of a message, as the adapters know it. */
export interface Endpoint {
  ip: string;
  port: number;
}

/** When the message was received, and when it happened if the capture says so. */
export interface EventTimes {
  received: Date;
  /** Capture time; defaults to `received`. */
  ts?: Date;
}

/** What every OT mapper's context carries besides its peers and its protocol's own keys. */
export interface EndpointEventContext extends EventTimes {
  /** Extra fields the adapter knows (frame numbers, the file replayed, policy verdicts), merged into `fields`. */
  extra?: Record<string, unknown>;
  /** Tags every event of the stream carries (copied per event). */
  tags?: string[];
}

/** Start (epoch ms) of the minute `isoPrefix` formats, e.g. `2024-01-01T10:20:`. */
let isoMinuteMs = Number.NaN;
let isoPrefix = '';
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * `d.toISOString()`, cheaper for a run of times within the same minute (a capture, a live
 * segment): the `YYYY-MM-DDTHH:MM:` part of the last minute formatted is kept and only seconds
 * and milliseconds are added. UTC minutes are whole multiples of 60,000 ms since the epoch (no
 * leap seconds in ECMAScript time, §21.4.1.1), and every `toISOString` result, six-digit years
 * included, ends with `SS.sssZ`. Throws on an invalid date, as `toISOString` does.
 */
export function isoTime(d: Date): string {
  const t = d.getTime();
  const into = t - isoMinuteMs;
  if (into >= 0 && into < 60_000) {
    const secs = Math.floor(into / 1000);
    return `${isoPrefix}${pad2(secs)}.${pad3(into - secs * 1000)}Z`;
  }
  const full = d.toISOString();
  isoMinuteMs = t - (((t % 60_000) + 60_000) % 60_000);
  isoPrefix = full.slice(0, -7);
  return full;
}

/**
 * A new event with its common keys set. `from` sent the message and `to` received it (the
 * caller decides which peer is which from the message's direction); the device is left out when
 * the message does not name one. `fields` and `tags` are taken as they are, not copied.
 */
export function endpointEvent(
  times: EventTimes,
  source: PendingEvent['source'],
  kind: PendingEvent['kind'],
  action: string,
  severity: number,
  message: string,
  device: PendingEvent['device'] | undefined,
  fields: Record<string, unknown>,
  tags: string[],
  from: Endpoint | undefined,
  to: Endpoint | undefined,
): PendingEvent {
  const received = isoTime(times.received);
  const event: PendingEvent = {
    ts: times.ts && times.ts !== times.received ? isoTime(times.ts) : received,
    received,
    source,
    kind,
    action,
    severity,
    message,
    fields,
    tags,
  };
  if (device) event.device = device;
  if (from) event.src = { ip: from.ip, port: from.port };
  if (to) event.dst = { ip: to.ip, port: to.port };
  return event;
}

/** The context's tags (copied: the context is shared by every event of a stream), `anomaly` added when there are any. */
export function eventTags(tags: readonly string[] | undefined, anomalous: boolean): string[] {
  const out = tags ? tags.slice() : [];
  if (anomalous) out.push('anomaly');
  return out;
}
