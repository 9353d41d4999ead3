/**
 * Bulk writes on PostgreSQL by COPY (DESIGN.md "Storage"), keeping exactly-once storage. A batch
 * is first copied straight into `events` under a savepoint: that is the common case (a re-sent
 * batch is rare) and costs what a raw COPY costs. COPY cannot skip conflicting rows, so when any
 * row is already stored (unique violation) or two batches collide (deadlock), the savepoint is
 * rolled back and the batch goes the slow, exact way: copied into a per-connection staging table
 * (`TEMP … ON COMMIT DELETE ROWS`) and moved into `events` with one `INSERT … SELECT … ON
 * CONFLICT (gateway, seq, ts) DO NOTHING`, in the same transaction. The staging table mirrors the
 * unnest path's columns (tags as a jsonb array).
 * Values travel in COPY's text format (PostgreSQL docs, COPY "Text Format"): `\N` is NULL and
 * backslash, newline, carriage return and tab are backslash-escaped.
 */
import { clean, INSERT_COLUMNS, jsonText, rowValues, type StorageRow } from './event-rows.ts';
import type { SqlExecutor } from './sql-client.ts';

const STAGE = 'events_stage';
const names = INSERT_COLUMNS.map(([name]) => name);

export const CREATE_STAGE_SQL = `CREATE TEMP TABLE IF NOT EXISTS ${STAGE} (${INSERT_COLUMNS.map(
  ([name, type]) => `${name} ${type}${name === 'gateway' ? ' COLLATE "C"' : ''}`,
).join(', ')}) ON COMMIT DELETE ROWS`;

const COPY_SQL = `COPY ${STAGE} (${names.join(', ')}) FROM STDIN`;
const DIRECT_COPY_SQL = `COPY events (${names.join(', ')}) FROM STDIN`;
const TAGS_AT = names.indexOf('tags');
/** unique_violation, deadlock_detected: the batch overlaps what is stored or being stored. */
const FALL_BACK_CODES = new Set(['23505', '40P01']);

// Ordered like the sorted batch, so concurrent batches take row locks in one order (no deadlock).
const MOVE_SQL = `INSERT INTO events (${names.join(', ')})
SELECT ${names.map((n) => (n === 'tags' ? 'ARRAY(SELECT jsonb_array_elements_text(s.tags))' : `s.${n}`)).join(', ')}
  FROM ${STAGE} s ORDER BY s.gateway, s.seq, s.ts
ON CONFLICT (gateway, seq, ts) DO NOTHING`;

const SPECIAL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY text format. */
export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = String(value);
  return text.replace(SPECIAL, (c) => ESCAPES[c]!);
}

/**
 * A JSON array of strings (the staging form of `tags`) as a PostgreSQL text[] literal: every
 * element double-quoted, with `"` and `\` backslash-escaped (PostgreSQL docs, "Array Value Input").
 */
export function pgTextArray(json: string | null): string {
  // Absent tags are stored as the column default, the empty array.
  if (json === null) return '{}';
  const items = JSON.parse(json) as unknown[];
  return `{${items.map((t) => `"${String(t).replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

const NEEDS_ESCAPE = /[\\\n\r\t]/;

/** `copyText` of a string, without the replace when nothing needs escaping (the usual case). */
function esc(text: string): string {
  return NEEDS_ESCAPE.test(text) ? copyText(text) : text;
}

function opt(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '\\N' : esc(String(value));
}

/** JSON text (already free of NUL escapes) as COPY text: JSON has no raw newline or tab, only backslashes. */
function json(text: string | null): string {
  if (text === null) return '\\N';
  return text.includes('\\') ? copyText(text) : text;
}

/** The text[] literal of `pgTextArray(jsonText(tags))`, without the JSON round trip. */
function tagsLiteral(tags: readonly unknown[] | undefined): string {
  if (tags === undefined) return '{}';
  let out = '{';
  for (let i = 0; i < tags.length; i += 1) {
    const tag = tags[i];
    // Anything but a string (only from an unvalidated caller) takes the general route.
    if (typeof tag !== 'string') return pgTextArray(jsonText(tags));
    const text = clean(tag);
    out += `${i > 0 ? ',' : ''}"${/["\\]/.test(text) ? text.replace(/["\\]/g, (c) => `\\${c}`) : text}"`;
  }
  return `${out}}`;
}

/**
 * One row as a line of COPY text, in INSERT_COLUMNS order: what `rowValues(row).map(copyText)`
 * gives (with `tags` as `pgTextArray` when `direct`), built straight into one string. This runs
 * once per stored event, so it avoids the intermediate arrays and regex replaces.
 */
export function copyLine({ event: e, ts, received }: StorageRow, direct: boolean): string {
  const device = e.device;
  const src = e.src;
  const dst = e.dst;
  const tags = direct ? esc(tagsLiteral(e.tags)) : json(jsonText(e.tags));
  return `${esc(clean(e.id))}\t${esc(e.gateway)}\t${e.seq}\t${ts}\t${received}\t${opt(e.clock_offset_ms)}\t${esc(
    e.source,
  )}\t${esc(e.kind)}\t${esc(clean(e.action))}\t${opt(e.severity)}\t${esc(clean(e.message))}\t${opt(
    clean(e.host),
  )}\t${opt(clean(device?.id))}\t${opt(clean(device?.protocol_id))}\t${opt(clean(device?.name))}\t${opt(
    clean(src?.ip),
  )}\t${opt(src?.port)}\t${opt(clean(dst?.ip))}\t${opt(dst?.port)}\t${json(jsonText(e.fields))}\t${tags}\t${json(jsonText(e.threat))}\t${opt(e.v)}\t${opt(e.time_source)}\n`;
}

/**
 * The batch as COPY text, in chunks of about `chunkChars` characters; `direct` writes `tags` as a
 * text[] literal for `events` itself instead of the staging table's jsonb.
 */
export function* copyChunks(
  rows: readonly StorageRow[],
  chunkChars = 256 * 1024,
  direct = false,
): Generator<string> {
  let buffer = '';
  for (const row of rows) {
    buffer += copyLine(row, direct);
    if (buffer.length >= chunkChars) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

/** The reference form of `copyLine` (tests compare the two). */
export function copyLineReference(row: StorageRow, direct: boolean): string {
  const values = rowValues(row);
  if (direct) values[TAGS_AT] = pgTextArray(values[TAGS_AT] as string | null);
  return `${values.map(copyText).join('\t')}\n`;
}

/** Copies the (sorted) rows in; returns how many were new. Runs inside the caller's transaction. */
export async function copyEvents(tx: SqlExecutor, rows: readonly StorageRow[]): Promise<number> {
  if (!tx.copyFrom) throw new Error('this executor has no COPY');
  await tx.query('SAVEPOINT direct_copy');
  try {
    await tx.copyFrom(DIRECT_COPY_SQL, copyChunks(rows, undefined, true));
    await tx.query('RELEASE SAVEPOINT direct_copy');
    return rows.length;
  } catch (error) {
    if (!FALL_BACK_CODES.has((error as { code?: string }).code ?? '')) throw error;
    await tx.query('ROLLBACK TO SAVEPOINT direct_copy');
  }
  await tx.query(CREATE_STAGE_SQL);
  // A failed earlier use on this connection rolled back, which also emptied the table.
  await tx.copyFrom(COPY_SQL, copyChunks(rows));
  const result = await tx.query(MOVE_SQL);
  return result.rowCount;
}
