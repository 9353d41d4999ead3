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
import { CopyBytesWriter, copyText } from './copy-bytes.ts';
import { clean, INSERT_COLUMNS, jsonText, rowValues, type StorageRow } from './event-rows.ts';
import type { SqlExecutor } from './sql-client.ts';

const STAGE = 'events_stage';
const names = INSERT_COLUMNS.map(([name]) => name);

export const CREATE_STAGE_SQL = `CREATE TEMP TABLE IF NOT EXISTS ${STAGE} (${INSERT_COLUMNS.map(
  ([name, type]) => `${name} ${type}${name === 'gateway' ? ' COLLATE "C"' : ''}`,
).join(', ')}) ON COMMIT DELETE ROWS`;

const COPY_SQL = `COPY ${STAGE} (${names.join(', ')}) FROM STDIN`;
const DIRECT_COPY_SQL = `COPY events (${names.join(', ')}) FROM STDIN`;
/** The statements by which central feeds rows to PostgreSQL (stalled-copies.ts finds them). */
export const COPY_STATEMENTS = [DIRECT_COPY_SQL, COPY_SQL];
const TAGS_AT = names.indexOf('tags');
/** unique_violation, deadlock_detected: the batch overlaps what is stored or being stored. */
const FALL_BACK_CODES = new Set(['23505', '40P01']);

// Ordered like the sorted batch, so concurrent batches take row locks in one order (no deadlock).
const MOVE_SQL = `INSERT INTO events (${names.join(', ')})
SELECT ${names.map((n) => (n === 'tags' ? 'ARRAY(SELECT jsonb_array_elements_text(s.tags))' : `s.${n}`)).join(', ')}
  FROM ${STAGE} s ORDER BY s.gateway, s.seq, s.ts
ON CONFLICT (gateway, seq, ts) DO NOTHING`;

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

/** The text[] literal of `pgTextArray(jsonText(tags))`, without the JSON round trip. */
function tagsLiteral(tags: readonly unknown[] | undefined): string {
  if (tags === undefined || tags.length === 0) return '{}';
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

const TAB = 0x09;

/**
 * One row as a line of COPY text, in INSERT_COLUMNS order, into `w`: the bytes of
 * `copyLineReference(row, direct)` (with `tags` as a text[] literal when `direct`). This runs once
 * per stored event, so it makes no string of the line and no intermediate array.
 */
export function writeCopyRow(
  w: CopyBytesWriter,
  { event: e, ts, received }: StorageRow,
  direct: boolean,
): void {
  const device = e.device;
  const src = e.src;
  const dst = e.dst;
  w.text(e.id, true);
  w.byte(TAB);
  w.text(e.gateway, false);
  w.byte(TAB);
  w.optValue(e.seq);
  w.byte(TAB);
  w.text(ts, false);
  w.byte(TAB);
  w.text(received, false);
  w.byte(TAB);
  w.optValue(e.clock_offset_ms);
  w.byte(TAB);
  w.text(e.source, false);
  w.byte(TAB);
  w.text(e.kind, false);
  w.byte(TAB);
  w.text(e.action, true);
  w.byte(TAB);
  w.optValue(e.severity);
  w.byte(TAB);
  w.text(e.message, true);
  w.byte(TAB);
  w.optText(e.host, true);
  w.byte(TAB);
  w.optText(device?.id, true);
  w.byte(TAB);
  w.optText(device?.protocol_id, true);
  w.byte(TAB);
  w.optText(device?.name, true);
  w.byte(TAB);
  w.optText(src?.ip, true);
  w.byte(TAB);
  w.optValue(src?.port);
  w.byte(TAB);
  w.optText(dst?.ip, true);
  w.byte(TAB);
  w.optValue(dst?.port);
  w.byte(TAB);
  w.json(e.fields);
  w.byte(TAB);
  if (direct) w.text(tagsLiteral(e.tags), false);
  else w.json(e.tags);
  w.byte(TAB);
  w.json(e.threat);
  w.byte(TAB);
  w.optValue(e.v);
  w.byte(TAB);
  w.optText(e.time_source, false);
  w.byte(0x0a);
}

/** A chunk of COPY data is sent once it holds this many bytes. */
const CHUNK_BYTES = 256 * 1024;

/**
 * The batch as COPY text, in chunks of about `chunkBytes` bytes (each a buffer of its own: the
 * socket keeps it until written); `direct` writes `tags` as a text[] literal for `events` itself
 * instead of the staging table's jsonb.
 */
export function* copyChunks(
  rows: readonly StorageRow[],
  chunkBytes = CHUNK_BYTES,
  direct = false,
): Generator<Buffer> {
  let w = new CopyBytesWriter(chunkBytes + chunkBytes / 4);
  for (const row of rows) {
    writeCopyRow(w, row, direct);
    if (w.n >= chunkBytes) {
      yield w.buf.subarray(0, w.n);
      w = new CopyBytesWriter(chunkBytes + chunkBytes / 4);
    }
  }
  if (w.n > 0) yield w.buf.subarray(0, w.n);
}

/** One row as a line of COPY text, column by column: the reference `writeCopyRow` is tested against. */
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
