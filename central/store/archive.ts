/**
 * Archives one daily partition of `events` before retention drops it: every row, streamed page by
 * page (never the whole partition in memory) into a gzip file, NDJSON (one `to_jsonb(row)` object
 * a line, every column including `stored_at`) or CSV (each column's PostgreSQL text form, header
 * first), and beside it a JSON manifest with the row count, the columns and the sha256 of the
 * archive file. Files are written under a temporary name, fsynced and renamed, so a crash never
 * leaves a complete-looking archive that is not. `restore.ts` reads them back.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { csvRecord } from './archive-csv.ts';
import { partitionBounds } from './partitions.ts';
import { quoteIdent, type SqlExecutor } from './sql-client.ts';

export type ArchiveFormat = 'ndjson' | 'csv';
export const ARCHIVE_MANIFEST_VERSION = 1;
/** Rows fetched per page while archiving. */
const PAGE_ROWS = 1000;

export interface ArchiveManifest {
  version: typeof ARCHIVE_MANIFEST_VERSION;
  table: 'events';
  partition: string;
  /** Bounds of the partition's day (ISO 8601, UTC). */
  from: string;
  to: string;
  format: ArchiveFormat;
  /** File name of the archive, in the manifest's directory. */
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  columns: Array<{ name: string; type: string }>;
  created_at: string;
}

export interface TableColumn {
  name: string;
  /** `format_type` of the column, e.g. `timestamp with time zone`, `text[]`. */
  type: string;
}

export async function tableColumns(db: SqlExecutor, table: string): Promise<TableColumn[]> {
  const { rows } = await db.query<TableColumn>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  return rows;
}

export function manifestPath(dir: string, partition: string): string {
  return path.join(dir, `${partition}.manifest.json`);
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `partition` to `<dir>/<partition>.<format>.gz` and its manifest; returns the manifest. */
export async function archivePartition(
  db: SqlExecutor,
  partition: string,
  options: { dir: string; format: ArchiveFormat; now?: Date },
): Promise<ArchiveManifest> {
  const bounds = partitionBounds(partition);
  if (!bounds) throw new RangeError(`${partition} is not a daily partition of events`);
  const columns = await tableColumns(db, 'events');
  const table = quoteIdent(partition); // checked against the daily-partition name pattern above
  const select =
    options.format === 'ndjson'
      ? 'to_jsonb(t)::text AS line'
      : columns.map((c) => `t.${quoteIdent(c.name)}::text AS ${quoteIdent(c.name)}`).join(', ');
  let rows = 0;
  async function* lines(): AsyncGenerator<string> {
    if (options.format === 'csv') yield csvRecord(columns.map((c) => c.name));
    let key: unknown[] | undefined;
    for (;;) {
      // Keyset over the unique key, ascending: stable pages, each one index range scan.
      const { rows: page } = await db.query<Record<string, string | null>>(
        `SELECT ${select}, t.ts::text AS k_ts, t.gateway AS k_gateway, t.seq::text AS k_seq FROM ${table} t
         ${key ? 'WHERE (t.ts, t.gateway, t.seq) > ($1::timestamptz, $2, $3::bigint)' : ''}
         ORDER BY t.ts, t.gateway, t.seq LIMIT ${PAGE_ROWS}`,
        key ?? [],
      );
      if (page.length === 0) return;
      let out = '';
      for (const row of page) {
        out +=
          options.format === 'ndjson' ? `${row.line}\n` : csvRecord(columns.map((c) => row[c.name] ?? null));
      }
      rows += page.length;
      yield out;
      const last = page[page.length - 1]!;
      key = [last.k_ts, last.k_gateway, last.k_seq];
      if (page.length < PAGE_ROWS) return;
    }
  }

  await mkdir(options.dir, { recursive: true });
  const file = `${partition}.${options.format}.gz`;
  const target = path.join(options.dir, file);
  const temp = `${target}.tmp`;
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    Readable.from(lines()),
    createGzip(),
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    }),
    createWriteStream(temp, { mode: 0o640 }),
  );
  await fsyncFile(temp);
  await rename(temp, target);
  const manifest: ArchiveManifest = {
    version: ARCHIVE_MANIFEST_VERSION,
    table: 'events',
    partition,
    from: bounds.from.toISOString(),
    to: bounds.to.toISOString(),
    format: options.format,
    file,
    rows,
    bytes,
    sha256: hash.digest('hex'),
    columns,
    created_at: (options.now ?? new Date()).toISOString(),
  };
  const manifestFile = manifestPath(options.dir, partition);
  await writeFile(`${manifestFile}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o640 });
  await fsyncFile(`${manifestFile}.tmp`);
  await rename(`${manifestFile}.tmp`, manifestFile);
  return manifest;
}
