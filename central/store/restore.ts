/**
 * Restores a partition archive written by archive.ts: checks the manifest, the file's size and
 * sha256, then inserts every row back into `events` (its daily partition created first) in one
 * transaction, `ON CONFLICT DO NOTHING`, so restoring twice, or over rows still present, stores
 * nothing twice. Rows come back identical, `stored_at` included. A restored day older than the
 * retention period is dropped again by the next lifecycle run unless retention is raised.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { ARCHIVE_MANIFEST_VERSION, type ArchiveManifest, tableColumns } from './archive.ts';
import { parseCsv } from './archive-csv.ts';
import { createDailyPartitions, partitionBounds } from './partitions.ts';
import { quoteIdent, type SqlClient, type SqlExecutor } from './sql-client.ts';

/** Rows per INSERT while restoring, and a cap on the JSON text of one NDJSON chunk. */
const CHUNK_ROWS = 1000;
const CHUNK_CHARS = 8 * 1024 * 1024;

const manifestSchema = z.strictObject({
  version: z.literal(ARCHIVE_MANIFEST_VERSION),
  table: z.literal('events'),
  partition: z.string().regex(/^events_p\d{8}$/),
  from: z.string(),
  to: z.string(),
  format: z.enum(['ndjson', 'csv']),
  file: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a plain file name'),
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  columns: z.array(z.strictObject({ name: z.string(), type: z.string() })).min(1),
  created_at: z.string(),
});

export interface RestoreResult {
  manifest: ArchiveManifest;
  /** Rows read from the archive (equal to `manifest.rows`). */
  rows: number;
  /** Rows newly stored (the rest were still, or already again, present). */
  inserted: number;
}

/** The manifest path for FILE: FILE itself, or the manifest beside an archive file. */
export function resolveManifest(file: string): string {
  if (file.endsWith('.manifest.json')) return file;
  const base = path.basename(file).replace(/\.(ndjson|csv)\.gz$/, '');
  return path.join(path.dirname(file), `${base}.manifest.json`);
}

export async function readManifest(file: string): Promise<ArchiveManifest> {
  const parsed = manifestSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: not an archive manifest (${issue?.path.join('.')}: ${issue?.message})`);
  }
  return parsed.data as ArchiveManifest;
}

async function fileDigest(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function* textOf(file: string): AsyncGenerator<string> {
  const gunzip = createReadStream(file).pipe(createGunzip());
  gunzip.setEncoding('utf8');
  for await (const chunk of gunzip) yield chunk as string;
}

export async function restoreArchive(client: SqlClient, file: string): Promise<RestoreResult> {
  const manifestFile = resolveManifest(file);
  const manifest = await readManifest(manifestFile);
  const archive = path.join(path.dirname(manifestFile), manifest.file);
  const digest = await fileDigest(archive);
  if (digest.bytes !== manifest.bytes || digest.sha256 !== manifest.sha256) {
    throw new Error(`${archive}: sha256 or size does not match the manifest; the archive is damaged`);
  }
  const present = new Map((await tableColumns(client, 'events')).map((c) => [c.name, c.type]));
  for (const c of manifest.columns) {
    if (!present.has(c.name)) throw new Error(`column ${c.name} of the archive no longer exists in events`);
  }
  const bounds = partitionBounds(manifest.partition);
  if (bounds) await createDailyPartitions(client, [bounds.from.getTime()]);
  const names = manifest.columns.map((c) => quoteIdent(c.name)).join(', ');

  const result = await client.transaction(async (tx) => {
    let rows = 0;
    let inserted = 0;
    if (manifest.format === 'ndjson') {
      const insert = `INSERT INTO events (${names}) SELECT ${names}
        FROM jsonb_populate_recordset(NULL::events, $1::jsonb) ON CONFLICT (gateway, seq, ts) DO NOTHING`;
      let batch: string[] = [];
      let chars = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        inserted += (await tx.query(insert, [`[${batch.join(',')}]`])).rowCount;
        rows += batch.length;
        batch = [];
        chars = 0;
      };
      for await (const line of createInterface({
        input: Readable.from(textOf(archive)),
        crlfDelay: Infinity,
      })) {
        if (line === '') continue;
        batch.push(line);
        chars += line.length;
        if (batch.length >= CHUNK_ROWS || chars >= CHUNK_CHARS) await flush();
      }
      await flush();
    } else {
      ({ rows, inserted } = await restoreCsv(tx, manifest, present, textOf(archive)));
    }
    if (rows !== manifest.rows) {
      // Throwing rolls the whole restore back.
      throw new Error(`${archive}: ${rows} rows read, the manifest says ${manifest.rows}`);
    }
    return { rows, inserted };
  });
  return { manifest, ...result };
}

async function restoreCsv(
  tx: SqlExecutor,
  manifest: ArchiveManifest,
  types: Map<string, string>,
  text: AsyncIterable<string>,
): Promise<{ rows: number; inserted: number }> {
  const columns = manifest.columns.map((c) => c.name);
  // Each column travels as a text[] and is cast back with the type PostgreSQL printed it from.
  const insert = `INSERT INTO events (${columns.map(quoteIdent).join(', ')})
    SELECT ${columns.map((c, i) => `u.c${i}::${types.get(c)}`).join(', ')}
      FROM unnest(${columns.map((_c, i) => `$${i + 1}::text[]`).join(', ')}) AS u(${columns.map((_c, i) => `c${i}`).join(', ')})
    ON CONFLICT (gateway, seq, ts) DO NOTHING`;
  let header = true;
  let rows = 0;
  let inserted = 0;
  let batch: (string | null)[][] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const params = columns.map((_c, i) => batch.map((r) => r[i] ?? null));
    inserted += (await tx.query(insert, params)).rowCount;
    rows += batch.length;
    batch = [];
  };
  for await (const record of parseCsv(text)) {
    if (header) {
      if (record.join(',') !== columns.join(',')) throw new Error('CSV header does not match the manifest');
      header = false;
      continue;
    }
    if (record.length !== columns.length)
      throw new Error(`CSV record ${rows + batch.length + 1}: wrong column count`);
    batch.push(record);
    if (batch.length >= CHUNK_ROWS) await flush();
  }
  await flush();
  return { rows, inserted };
}
