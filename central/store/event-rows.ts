/**
 * Mapping between an `Event` and its row in `events`, shared by both adapters: the column arrays
 * of the batched INSERT … SELECT FROM unnest(…), the SELECT list, and the way back to an `Event`.
 *
 * Timestamps are stored as timestamptz (µs precision) and come back in one canonical form: UTC,
 * `Z`, milliseconds (`Date#toISOString`) unless the sub-millisecond digits are non-zero, then
 * microseconds. An event written as `2024-05-01T12:00:00.123Z` therefore round-trips exactly;
 * `…+02:00` comes back as the same instant in `Z`, a fraction beyond 6 digits is truncated to µs,
 * and year 0000 (valid ISO 8601, refused by PostgreSQL) is clamped to 0001-01-01T00:00:00.000Z.
 * Truncation and clamping are deterministic, so a re-sent event still finds its stored twin.
 *
 * PostgreSQL text cannot hold U+0000, and jsonb refuses `\u0000`; a NUL in any string is stored
 * as U+FFFD so that one odd device cannot make a whole batch fail forever.
 */
import type { Event } from '../../protocols/event/schema.ts';

const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00.000Z');
const FRACTION = /\.(\d+)/;
const NUL = '\u0000';
const REPLACEMENT = '\uFFFD';

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** The `n` ASCII digits of `s` from `at` as a number; -1 when one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let value = 0;
  for (let i = at; i < at + n; i += 1) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Whether `iso` is in `Date#toISOString` form (UTC, ms, years 0001–9999: the form gateways
 * send) and a real calendar date: `YYYY-MM-DDTHH:mm:ss.sssZ`. Read by character codes, not a
 * regular expression with captures, as it runs twice per ingested event.
 */
function isCanonical(iso: string): boolean {
  if (
    iso.length !== 24 ||
    iso.charCodeAt(4) !== 45 || // -
    iso.charCodeAt(7) !== 45 ||
    iso.charCodeAt(10) !== 84 || // T
    iso.charCodeAt(13) !== 58 || // :
    iso.charCodeAt(16) !== 58 ||
    iso.charCodeAt(19) !== 46 || // .
    iso.charCodeAt(23) !== 90 // Z
  ) {
    return false;
  }
  const year = digits(iso, 0, 4);
  const month = digits(iso, 5, 2);
  const day = digits(iso, 8, 2);
  const hour = digits(iso, 11, 2);
  const minute = digits(iso, 14, 2);
  const second = digits(iso, 17, 2);
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 59 &&
    digits(iso, 20, 3) >= 0
  );
}

/** Canonical storage form of an ISO 8601 timestamp: UTC, µs precision, e.g. `2024-05-01T12:00:00.123456Z`. */
export function toStorageTime(iso: string): string {
  // Fast path, per event on ingest: a real calendar date in toISOString form is already
  // canonical (Date.parse would give it back unchanged); only the µs digits are added.
  return isCanonical(iso) ? `${iso.slice(0, -1)}000Z` : slowStorageTime(iso);
}

/** The general case: any offset, any number of fraction digits; also the reference of the fast path. */
export function slowStorageTime(iso: string): string {
  const fraction = FRACTION.exec(iso)?.[1] ?? '';
  // Date.parse truncates a fraction to ms; the next three digits are kept apart.
  const ms = Date.parse(iso.replace(FRACTION, (_m, digits: string) => `.${digits.slice(0, 3)}`));
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO 8601 timestamp: ${JSON.stringify(iso)}`);
  if (ms < MIN_TIME_MS) return '0001-01-01T00:00:00.000000Z';
  const micros = fraction.slice(3, 6).padEnd(3, '0');
  return `${new Date(ms).toISOString().slice(0, -1)}${micros}Z`;
}

/** The `Event` form of a stored timestamp: drops the µs digits when they are zero. */
export function fromStorageTime(stored: string): string {
  return stored.endsWith('000Z') ? `${stored.slice(0, -4)}Z` : stored;
}

export function clean(text: string): string;
export function clean(text: string | undefined): string | null;
export function clean(text: string | undefined): string | null {
  if (text === undefined) return null;
  return text.includes(NUL) ? text.replaceAll(NUL, REPLACEMENT) : text;
}

function scrub(value: unknown): unknown {
  if (typeof value === 'string') return clean(value);
  if (Array.isArray(value)) return value.map(scrub);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [clean(k), scrub(v)]));
  }
  return value;
}

export function jsonText(value: unknown): string | null {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) return null;
  // Cheap test first; a false positive (an escaped backslash before "u0000") only costs a scrub.
  // The scrub is of the JSON's data (after any toJSON), so each part of a value comes out as it
  // does alone (the COPY writer writes parts; copy-bytes.ts).
  return text.includes('\\u0000') ? JSON.stringify(scrub(JSON.parse(text))) : text;
}

/** An event with its identity key in storage form, ready to become a row. */
export interface StorageRow {
  event: Event;
  ts: string;
  received: string;
}

export function toStorageRow(event: Event): StorageRow {
  return { event, ts: toStorageTime(event.ts), received: toStorageTime(event.received) };
}

/** Column name and array type of each `unnest` parameter, in parameter order. */
export const INSERT_COLUMNS = [
  ['id', 'text'],
  ['gateway', 'text'],
  ['seq', 'bigint'],
  ['ts', 'timestamptz'],
  ['received', 'timestamptz'],
  ['clock_offset_ms', 'bigint'],
  ['source', 'text'],
  ['kind', 'text'],
  ['action', 'text'],
  ['severity', 'smallint'],
  ['message', 'text'],
  ['host', 'text'],
  ['device_id', 'text'],
  ['device_protocol_id', 'text'],
  ['device_name', 'text'],
  ['src_ip', 'text'],
  ['src_port', 'integer'],
  ['dst_ip', 'text'],
  ['dst_port', 'integer'],
  ['fields', 'jsonb'],
  ['tags', 'jsonb'],
  ['threat', 'jsonb'],
  ['v', 'smallint'],
  ['time_source', 'text'],
] as const;

const names = INSERT_COLUMNS.map(([name]) => name);

/**
 * One statement for a whole chunk: each column travels as one array parameter. Tags go as a
 * jsonb array per event because unnest would flatten a two-dimensional text[].
 */
export const INSERT_SQL = `INSERT INTO events (${names.join(', ')})
SELECT ${names.map((n) => (n === 'tags' ? 'ARRAY(SELECT jsonb_array_elements_text(u.tags))' : `u.${n}`)).join(', ')}
  FROM unnest(${INSERT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) AS u(${names.join(', ')})
ON CONFLICT (gateway, seq, ts) DO NOTHING`;

/** One row's column values in INSERT_COLUMNS order (tags, fields, threat as JSON text). */
export function rowValues({ event: e, ts, received }: StorageRow): unknown[] {
  return [
    clean(e.id),
    e.gateway,
    String(e.seq),
    ts,
    received,
    e.clock_offset_ms === undefined ? null : String(e.clock_offset_ms),
    e.source,
    e.kind,
    clean(e.action),
    e.severity,
    clean(e.message),
    clean(e.host),
    clean(e.device?.id),
    clean(e.device?.protocol_id),
    clean(e.device?.name),
    clean(e.src?.ip),
    e.src?.port ?? null,
    clean(e.dst?.ip),
    e.dst?.port ?? null,
    jsonText(e.fields),
    jsonText(e.tags),
    jsonText(e.threat),
    e.v,
    e.time_source ?? null,
  ];
}

export function insertParams(rows: readonly StorageRow[]): unknown[][] {
  const columns: unknown[][] = INSERT_COLUMNS.map(() => new Array(rows.length));
  rows.forEach((row, i) => {
    rowValues(row).forEach((value, c) => {
      columns[c]![i] = value;
    });
  });
  return columns;
}

const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** The SELECT list turning a row back into `EventRow`; timestamps as UTC text, independent of the session time zone. */
export const SELECT_COLUMNS = `id, gateway, seq, to_char(ts AT TIME ZONE 'UTC', ${UTC_TEXT}) AS ts_text,
  to_char(received AT TIME ZONE 'UTC', ${UTC_TEXT}) AS received_text, clock_offset_ms, source, kind, action,
  severity, message, host, device_id, device_protocol_id, device_name, src_ip, src_port, dst_ip, dst_port,
  fields, tags, threat, v, time_source`;

export interface EventRow {
  id: string;
  gateway: string;
  /** int8: a string from pg, a number from PGlite. */
  seq: string | number;
  ts_text: string;
  received_text: string;
  clock_offset_ms: string | number | null;
  source: Event['source'];
  kind: Event['kind'];
  action: string;
  severity: number;
  message: string;
  host: string | null;
  device_id: string | null;
  device_protocol_id: string | null;
  device_name: string | null;
  src_ip: string | null;
  src_port: number | null;
  dst_ip: string | null;
  dst_port: number | null;
  fields: Record<string, unknown>;
  tags: string[];
  threat: Event['threat'] | null;
  v: number;
  time_source: Event['time_source'] | null;
}

function endpoint(ip: string | null, port: number | null): Event['src'] {
  if (ip === null && port === null) return undefined;
  return { ...(ip !== null && { ip }), ...(port !== null && { port }) };
}

/** Rebuilds the `Event`; absent optional fields stay absent (no `undefined` keys). */
export function rowToEvent(row: EventRow): Event {
  const event: Event = {
    v: row.v as Event['v'],
    id: row.id,
    gateway: row.gateway,
    seq: Number(row.seq),
    ts: fromStorageTime(row.ts_text),
    received: fromStorageTime(row.received_text),
    source: row.source,
    kind: row.kind,
    action: row.action,
    severity: row.severity,
    message: row.message,
    fields: row.fields,
    tags: row.tags,
  };
  if (row.clock_offset_ms !== null) event.clock_offset_ms = Number(row.clock_offset_ms);
  if (row.time_source) event.time_source = row.time_source;
  if (row.host !== null) event.host = row.host;
  if (row.device_id !== null) {
    event.device = {
      id: row.device_id,
      ...(row.device_protocol_id !== null && { protocol_id: row.device_protocol_id }),
      ...(row.device_name !== null && { name: row.device_name }),
    };
  }
  const src = endpoint(row.src_ip, row.src_port);
  if (src) event.src = src;
  const dst = endpoint(row.dst_ip, row.dst_port);
  if (dst) event.dst = dst;
  if (row.threat !== null) event.threat = row.threat;
  return event;
}
