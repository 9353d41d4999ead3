/**
 * Bulk writes on PostgreSQL by COPY (DESIGN.md "Storage"), keeping exactly-once storage: COPY
 * cannot skip conflicting rows, so a batch is copied into a per-connection staging table
 * (`TEMP … ON COMMIT DELETE ROWS`, created once per pooled connection) and moved into `events`
 * with one `INSERT … SELECT … ON CONFLICT (gateway, seq, ts) DO NOTHING`, in the batch's
 * transaction. The staging table mirrors the unnest path's columns (tags as a jsonb array).
 * Values travel in COPY's text format (PostgreSQL docs, COPY "Text Format"): `\N` is NULL and
 * backslash, newline, carriage return and tab are backslash-escaped.
 */
import { INSERT_COLUMNS, rowValues, type StorageRow } from './event-rows.ts';
import type { SqlExecutor } from './sql-client.ts';

const STAGE = 'events_stage';
const names = INSERT_COLUMNS.map(([name]) => name);

export const CREATE_STAGE_SQL = `CREATE TEMP TABLE IF NOT EXISTS ${STAGE} (${INSERT_COLUMNS.map(
  ([name, type]) => `${name} ${type}${name === 'gateway' ? ' COLLATE "C"' : ''}`,
).join(', ')}) ON COMMIT DELETE ROWS`;

const COPY_SQL = `COPY ${STAGE} (${names.join(', ')}) FROM STDIN`;

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

/** The batch as COPY text, in chunks of about `chunkChars` characters. */
export function* copyChunks(rows: readonly StorageRow[], chunkChars = 256 * 1024): Generator<string> {
  let buffer = '';
  for (const row of rows) {
    buffer += `${rowValues(row).map(copyText).join('\t')}\n`;
    if (buffer.length >= chunkChars) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

/** Copies the (sorted) rows in; returns how many were new. Runs inside the caller's transaction. */
export async function copyEvents(tx: SqlExecutor, rows: readonly StorageRow[]): Promise<number> {
  if (!tx.copyFrom) throw new Error('this executor has no COPY');
  await tx.query(CREATE_STAGE_SQL);
  // A failed earlier use on this connection rolled back, which also emptied the table.
  await tx.copyFrom(COPY_SQL, copyChunks(rows));
  const result = await tx.query(MOVE_SQL);
  return result.rowCount;
}
