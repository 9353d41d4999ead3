/**
 * Validation of the events of a link batch on central's ingest path, with a fast path.
 *
 * `eventSchema` (protocols/event/schema.ts) stays the one definition of a valid event. Running
 * the zod schema on each event costs central more than everything else it does per event (a
 * result object per field, the checks interpreted), so `checkLinkEvent` first tries a
 * hand-written check of the same rules written straight-line; it answers only "certainly valid,
 * and here is exactly what zod would output" or "not sure". Anything not sure — every invalid
 * event, and the odd valid one (a `__proto__` key in `fields`) — goes through zod, so rejects and
 * their messages are zod's own. The fast path therefore never widens what central accepts:
 * tests/central/link/event-check.test.ts checks with fast-check that whenever it accepts, zod
 * accepts and outputs a deeply equal event with the same key order, and that the two together
 * accept and reject exactly what zod does.
 *
 * What it outputs is the input itself wherever the input already is zod's output (its keys in the
 * schema's order, defaults present): a gateway's events are, and a copy of each one was a good
 * part of what central's garbage collector had to move. The caller owns the value it passes.
 *
 * Precondition: the value comes from `JSON.parse` (the link codec), so objects are plain, keys
 * are strings and no value is `undefined`. To catch drift, the schema's JSON Schema form is
 * fingerprinted at load: if `eventSchema` changes, the fast path switches itself off (everything
 * goes through zod, still correct) and the test above fails until this file is updated.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  EVENT_KINDS,
  EVENT_LIMITS,
  EVENT_SOURCES,
  type Event,
  type EventParseResult,
  eventSchema,
  parseEvent,
} from '../../protocols/event/schema.ts';

/** SHA-256 of `JSON.stringify(z.toJSONSchema(eventSchema))` that this fast path was written for. */
export const EVENT_SCHEMA_FINGERPRINT = 'a9eb978d64c0eb938dc11743c779a7823d02f5485772476121a7cd854f183795';

export function eventSchemaFingerprint(): string {
  return createHash('sha256')
    .update(JSON.stringify(z.toJSONSchema(eventSchema)))
    .digest('hex');
}

/** False when the schema changed under this file: then every event goes through zod. */
export const FAST_PATH_ENABLED = eventSchemaFingerprint() === EVENT_SCHEMA_FINGERPRINT;

const GATEWAY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** zod's own ISO 8601 pattern of `ts` and `received` (`z.iso.datetime({ offset: true })`). */
const ISO_TIME = (eventSchema.shape.ts as unknown as { _zod: { def: { pattern: RegExp } } })._zod.def.pattern;
const SOURCES: ReadonlySet<unknown> = new Set(EVENT_SOURCES);
const KINDS: ReadonlySet<unknown> = new Set(EVENT_KINDS);
const hasOwn = Object.prototype.hasOwnProperty;
const OBJECT_PROTO = Object.prototype;

type Json = Record<string, unknown>;

function isPlain(value: unknown): value is Json {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === OBJECT_PROTO
  );
}

function str(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

function int(value: unknown, min: number, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** Own enumerable keys, when that is cheap to know exactly (Object.keys allocates; for..in does not). */
function keyCount(value: Json): number {
  let n = 0;
  for (const key in value) {
    if (!hasOwn.call(value, key)) return -1;
    n += 1;
  }
  return n;
}

/** Whether `value`'s own keys come in `order` (each a later entry than the one before). */
function inOrder(value: Json, order: readonly string[]): boolean {
  let at = 0;
  for (const key in value) {
    while (at < order.length && order[at] !== key) at += 1;
    if (at === order.length) return false;
    at += 1;
  }
  return true;
}

/** The schema's key orders: zod writes its output's keys in them. */
const EVENT_ORDER = Object.keys(eventSchema.shape);
const DEVICE_ORDER = ['id', 'protocol_id', 'name'];
const ENDPOINT_ORDER = ['ip', 'port'];
const THREAT_ORDER = ['rule_id', 'rule_name', 'techniques'];

function strings(value: unknown, maxItems: number, maxChars: number): string[] | undefined {
  if (!Array.isArray(value) || value.length > maxItems) return undefined;
  for (const item of value) if (!str(item, 0, maxChars)) return undefined;
  return value as string[];
}

function device(value: unknown): Event['device'] | undefined {
  if (!isPlain(value)) return undefined;
  const { id, protocol_id, name } = value;
  if (!str(id, 1, EVENT_LIMITS.ID_CHARS)) return undefined;
  let n = 1;
  if (protocol_id !== undefined) {
    if (!str(protocol_id, 0, EVENT_LIMITS.ID_CHARS)) return undefined;
    n += 1;
  }
  if (name !== undefined) {
    if (!str(name, 0, EVENT_LIMITS.ID_CHARS)) return undefined;
    n += 1;
  }
  if (keyCount(value) !== n) return undefined;
  if (inOrder(value, DEVICE_ORDER)) return value as NonNullable<Event['device']>;
  const out: NonNullable<Event['device']> = { id };
  if (protocol_id !== undefined) out.protocol_id = protocol_id as string;
  if (name !== undefined) out.name = name as string;
  return out;
}

function endpoint(value: unknown): Event['src'] | undefined {
  if (!isPlain(value)) return undefined;
  const { ip, port } = value;
  let n = 0;
  if (ip !== undefined) {
    if (!str(ip, 0, 64)) return undefined;
    n += 1;
  }
  if (port !== undefined) {
    if (!int(port, 0, 65_535)) return undefined;
    n += 1;
  }
  if (keyCount(value) !== n) return undefined;
  if (inOrder(value, ENDPOINT_ORDER)) return value as NonNullable<Event['src']>;
  const out: NonNullable<Event['src']> = {};
  if (ip !== undefined) out.ip = ip as string;
  if (port !== undefined) out.port = port as number;
  return out;
}

function threat(value: unknown): Event['threat'] | undefined {
  if (!isPlain(value)) return undefined;
  const { rule_id, rule_name, techniques } = value;
  if (!str(rule_id, 0, EVENT_LIMITS.ID_CHARS)) return undefined;
  let n = 1;
  let names: string[] | undefined;
  if (rule_name !== undefined) {
    if (!str(rule_name, 0, 1024)) return undefined;
    n += 1;
  }
  if (techniques === undefined) names = [];
  else {
    names = strings(techniques, 32, 32);
    if (!names) return undefined;
    n += 1;
  }
  if (keyCount(value) !== n) return undefined;
  if (techniques !== undefined && inOrder(value, THREAT_ORDER)) return value as NonNullable<Event['threat']>;
  return rule_name === undefined
    ? { rule_id, techniques: names }
    : { rule_id, rule_name: rule_name as string, techniques: names };
}

/** `fields` as zod's record outputs it (same keys, same order); undefined (ask zod) for a `__proto__` key, which zod drops. */
function record(value: unknown): Record<string, unknown> | undefined {
  if (!isPlain(value)) return undefined;
  for (const key in value) if (key === '__proto__' || !hasOwn.call(value, key)) return undefined;
  return value;
}

/**
 * The fast path alone: the event zod would output, or undefined when this cannot be sure the
 * input is valid (the caller then asks zod). Exported for the equivalence test.
 */
export function fastParseEvent(input: unknown): Event | undefined {
  if (!isPlain(input)) return undefined;
  const e = input;
  const { id, gateway, seq, ts, received, source, kind, action, severity, message } = e;
  if (
    e.v !== 1 ||
    !str(id, 3, EVENT_LIMITS.ID_CHARS) ||
    !str(gateway, 1, 64) ||
    !GATEWAY_ID.test(gateway) ||
    !int(seq, 0, Number.MAX_SAFE_INTEGER) ||
    typeof ts !== 'string' ||
    !ISO_TIME.test(ts) ||
    typeof received !== 'string' ||
    !ISO_TIME.test(received) ||
    !SOURCES.has(source) ||
    !KINDS.has(kind) ||
    !str(action, 1, 128) ||
    !int(severity, 0, 7) ||
    !str(message, 0, EVENT_LIMITS.MESSAGE_BYTES)
  ) {
    return undefined;
  }
  let n = 11;
  const { time_source, clock_offset_ms, host } = e;
  if (time_source !== undefined) {
    if (time_source !== 'device' && time_source !== 'gateway') return undefined;
    n += 1;
  }
  if (clock_offset_ms !== undefined) {
    if (!Number.isSafeInteger(clock_offset_ms)) return undefined;
    n += 1;
  }
  if (host !== undefined) {
    if (!str(host, 0, 255)) return undefined;
    n += 1;
  }
  // Each nested value is zod's output: the input's own when it already is (see the helpers).
  const dev = e.device === undefined ? undefined : device(e.device);
  const src = e.src === undefined ? undefined : endpoint(e.src);
  const dst = e.dst === undefined ? undefined : endpoint(e.dst);
  const fields = e.fields === undefined ? undefined : record(e.fields);
  const tags = e.tags === undefined ? undefined : strings(e.tags, EVENT_LIMITS.TAGS, EVENT_LIMITS.TAG_CHARS);
  const thr = e.threat === undefined ? undefined : threat(e.threat);
  if (
    (e.device !== undefined && !dev) ||
    (e.src !== undefined && !src) ||
    (e.dst !== undefined && !dst) ||
    (e.fields !== undefined && !fields) ||
    (e.tags !== undefined && !tags) ||
    (e.threat !== undefined && !thr)
  ) {
    return undefined;
  }
  if (e.device !== undefined) n += 1;
  if (e.src !== undefined) n += 1;
  if (e.dst !== undefined) n += 1;
  if (e.fields !== undefined) n += 1;
  if (e.tags !== undefined) n += 1;
  if (e.threat !== undefined) n += 1;
  // Strict object: no key beyond those read above (an unknown one is zod's to report).
  if (keyCount(e) !== n) return undefined;
  // The input itself when it already is zod's output: keys in the schema's order, the defaults
  // (`fields`, `tags`) present and every nested value its own. Then nothing is written to it.
  if (
    fields !== undefined &&
    tags !== undefined &&
    dev === e.device &&
    src === e.src &&
    dst === e.dst &&
    thr === e.threat &&
    inOrder(e, EVENT_ORDER)
  ) {
    return e as unknown as Event;
  }
  // Else a copy, its keys written in the schema's order as zod writes its output.
  const out = { v: 1, id, gateway, seq, ts, received } as Event;
  if (time_source !== undefined) out.time_source = time_source as Event['time_source'];
  if (clock_offset_ms !== undefined) out.clock_offset_ms = clock_offset_ms as number;
  out.source = source as Event['source'];
  out.kind = kind as Event['kind'];
  out.action = action;
  out.severity = severity;
  out.message = message;
  if (host !== undefined) out.host = host as string;
  if (dev) out.device = dev;
  if (src) out.src = src;
  if (dst) out.dst = dst;
  out.fields = fields ?? {};
  out.tags = tags ?? [];
  if (thr) out.threat = thr;
  return out;
}

/** `parseEvent` for a value decoded from a link frame: the fast path, else zod. Never throws. */
export function checkLinkEvent(input: unknown): EventParseResult {
  const event = FAST_PATH_ENABLED ? fastParseEvent(input) : undefined;
  return event ? { ok: true, event } : parseEvent(input);
}
