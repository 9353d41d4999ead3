/**
 * `EventQuery` to SQL, shared by both adapters: parameterised filters, newest-first order and
 * keyset pagination. The cursor is base64url JSON of the last row's (ts, gateway, seq) with the
 * timestamp at full µs precision, so a page boundary between two events of the same millisecond
 * loses nothing. It is opaque to callers and checked strictly on the way back in.
 */
import { gatewayIdSchema } from '../../protocols/event/schema.ts';
import { InvalidCursorError, InvalidQueryError } from './errors.ts';
import { SELECT_COLUMNS } from './event-rows.ts';
import type { EventQuery, TimeField } from './types.ts';

export const MAX_LIMIT = 1000;
/** Used when `limit` is not a number at all; numbers are clamped to 1..MAX_LIMIT. */
export const DEFAULT_LIMIT = 100;

const CURSOR_VERSION = 1;
const CURSOR_CHARS = /^[A-Za-z0-9_-]{1,512}$/;
const STORED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export interface CursorKey {
  /** Stored timestamp text, µs precision (event-rows.ts SELECT_COLUMNS `ts_text`). */
  ts: string;
  gateway: string;
  seq: number;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, key.ts, key.gateway, key.seq]), 'utf8').toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string): CursorKey {
  if (!CURSOR_CHARS.test(cursor)) throw new InvalidCursorError('not base64url');
  const bytes = Buffer.from(cursor, 'base64url');
  // Round-trip check: rejects trailing bits and other non-canonical encodings.
  if (bytes.toString('base64url') !== cursor) throw new InvalidCursorError('not canonical base64url');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidCursorError('not JSON');
  }
  if (!Array.isArray(value) || value.length !== 4 || value[0] !== CURSOR_VERSION) {
    throw new InvalidCursorError('unknown format');
  }
  const [, ts, gateway, seq] = value as unknown[];
  if (typeof ts !== 'string' || !STORED_TIME.test(ts) || Number.isNaN(Date.parse(ts))) {
    throw new InvalidCursorError('bad timestamp');
  }
  if (!gatewayIdSchema.safeParse(gateway).success) throw new InvalidCursorError('bad gateway');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    throw new InvalidCursorError('bad seq');
  return { ts, gateway: gateway as string, seq };
}

export function clampLimit(limit: number): number {
  if (typeof limit !== 'number' || Number.isNaN(limit)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.trunc(limit)));
}

/**
 * What separates words in a message, as in migration 012's `event_tokens`: ASCII whitespace and
 * control characters, and ASCII punctuation other than `_`. Everything else (letters, digits,
 * `_`, any non-ASCII character) is part of a word.
 */
const WORD_BREAK = /[\t\n\r\v\f !"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]+/;

/** The words of `text`, lower-cased (ASCII), as `event_tokens` cuts them (tests compare the two). */
export function textWords(text: string): string[] {
  return text
    .replace(/[A-Z]+/g, (c) => c.toLowerCase())
    .split(WORD_BREAK)
    .filter((w) => w !== '');
}

/** `text` as a LIKE pattern matching it literally anywhere: `%`, `_` and `\` are escaped. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function isoParam(name: string, date: Date | undefined): string | undefined {
  if (date === undefined) return undefined;
  if (!(date instanceof Date) || Number.isNaN(date.getTime()))
    throw new InvalidQueryError(`${name} is not a valid date`);
  return date.toISOString();
}

export interface BuiltQuery {
  text: string;
  params: unknown[];
  /** Clamped page size; the statement fetches one row more to know whether a next page exists. */
  limit: number;
}

/** The column behind a `timeField` (a fixed map, never input spliced into SQL). */
export function timeColumn(field: TimeField | undefined): 'ts' | 'received' {
  if (field === undefined || field === 'ts') return 'ts';
  if (field === 'received') return 'received';
  throw new InvalidQueryError(`unknown time field ${String(field)}`);
}

/** A `$n` placeholder factory appending to `params`. */
export type ParamFn = (value: unknown) => string;

/** The WHERE conditions of an `EventQuery`'s filters (everything but cursor and limit), parameterised. */
export function filterClauses(
  query: Omit<EventQuery, 'limit' | 'cursor'>,
  param: ParamFn,
  { textIndex = true }: { textIndex?: boolean } = {},
): string[] {
  const where: string[] = [];
  const from = isoParam('from', query.from);
  const to = isoParam('to', query.to);
  // `received` is served by migration 011's index, `ts` by partition pruning and 001's indexes.
  const time = timeColumn(query.timeField);
  if (from !== undefined) where.push(`${time} >= ${param(from)}::timestamptz`);
  if (to !== undefined) where.push(`${time} < ${param(to)}::timestamptz`);
  if (query.source !== undefined) where.push(`source = ${param(query.source)}`);
  if (query.host !== undefined) where.push(`lower(host) = lower(${param(query.host)})`);
  if (query.severityMax !== undefined) {
    if (!Number.isFinite(query.severityMax)) throw new InvalidQueryError('severityMax is not a number');
    // Clamped into smallint's comfort zone: -1 matches nothing, 7 matches everything.
    where.push(`severity <= ${param(Math.min(7, Math.max(-1, Math.floor(query.severityMax))))}`);
  }
  if (query.text !== undefined && query.text !== '') {
    // Words (see textWords): served by the GIN index of each closed partition (closed-indexes.ts).
    // Without it (`textIndex: false`: `message || ''` is not the indexed expression, same rows) the
    // words are checked on the rows the other conditions found, far cheaper when those are few
    // (see narrowFirst). The substring condition is exact; the words one makes it whole words.
    if (textWords(query.text).length > 0) {
      const column = textIndex ? 'message' : "(message || '')";
      where.push(
        `(event_tokens(${column}) COLLATE "C") @> (event_tokens(${param(query.text)}::text) COLLATE "C")`,
      );
    }
    where.push(`message ILIKE ${param(containsPattern(query.text))} ESCAPE '\\'`);
  }
  if (query.gateway !== undefined) where.push(`gateway = ${param(query.gateway)}`);
  if (query.deviceId !== undefined) where.push(`device_id = ${param(query.deviceId)}`);
  if (query.action !== undefined) where.push(`action = ${param(query.action)}`);
  if (query.tag !== undefined) where.push(`tags @> ARRAY[${param(query.tag)}::text]`);
  return where;
}

/**
 * The probe that decides how a text search runs. The word index reads the posting list of every
 * word of the text, and in plant logs some words of a typical search occur in nearly every row,
 * so for a narrow query (one host over an hour: thousands of rows among millions) combining the
 * word index with the btree one costs more than checking the text on the few rows the btree finds.
 * The planner cannot see that, so the store asks it how many rows match everything but the text
 * (`estimate`: EXPLAIN, no row read) and takes its answer when it is far from `NARROW_ROWS` (a
 * factor of NARROW_MARGIN either way); near it, the store counts them, up to `NARROW_ROWS`
 * (`text`). Counting alone visited every one of those rows' heap pages: with one host's rows
 * spread one per page, 20,001 page visits for a day's search before the search itself (0.5-2 s
 * cold, issue 18), and as many as the search for an hour's.
 */
export const NARROW_ROWS = 20_000;
export const NARROW_MARGIN = 2;

export interface NarrowProbe extends BuiltQuery {
  /** EXPLAIN (FORMAT JSON) of the same rows: the planner's estimate (`estimatedRows`). */
  estimate: { text: string; params: unknown[] };
}

export function buildNarrowProbe(query: EventQuery): NarrowProbe | undefined {
  if (query.text === undefined || query.text === '') return undefined;
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = filterClauses({ ...query, text: undefined }, param);
  if (where.length === 0) return undefined;
  const rows = `SELECT 1 FROM events WHERE ${where.join(' AND ')}`;
  const estimate = { text: `EXPLAIN (FORMAT JSON) ${rows}`, params: [...params] };
  const text = `SELECT count(*)::int AS n FROM (${rows} LIMIT ${param(NARROW_ROWS + 1)}) narrow`;
  return { text, params, limit: NARROW_ROWS, estimate };
}

/** The top plan node's row estimate in a row of EXPLAIN (FORMAT JSON), parsed or not; undefined if none. */
export function estimatedRows(row: Record<string, unknown> | undefined): number | undefined {
  let plan = row?.['QUERY PLAN'];
  try {
    if (typeof plan === 'string') plan = JSON.parse(plan);
  } catch {
    return undefined;
  }
  const rows = (plan as Array<{ Plan?: { 'Plan Rows'?: unknown } }> | undefined)?.[0]?.Plan?.['Plan Rows'];
  return typeof rows === 'number' && Number.isFinite(rows) && rows >= 0 ? rows : undefined;
}

export function buildEventQuery(query: EventQuery, { textIndex = true } = {}): BuiltQuery {
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = filterClauses(query, param, { textIndex });
  if (query.cursor !== undefined) {
    const key = decodeCursor(query.cursor);
    where.push(
      `(ts, gateway, seq) < (${param(key.ts)}::timestamptz, ${param(key.gateway)}, ${param(key.seq)}::bigint)`,
    );
  }
  const limit = clampLimit(query.limit);
  const text = `SELECT ${SELECT_COLUMNS} FROM events
${where.length > 0 ? `WHERE ${where.join('\n  AND ')}` : ''}
ORDER BY ts DESC, gateway DESC, seq DESC
LIMIT ${param(limit + 1)}`;
  return { text, params, limit };
}
