/**
 * PostgreSQL's own ceiling for storing events: a raw COPY of rows straight into `events` (no link,
 * no validation, no dedup), in one stream, with every index the migrations create. Central's
 * ingest and the gateway's drain are measured beside it in the same run.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyText } from '../../../central/store/copy-bytes.ts';
import { INSERT_COLUMNS, rowValues, toStorageRow } from '../../../central/store/event-rows.ts';
import type { Event } from '../../../protocols/event/schema.ts';

/** COPYs `events` into the database at `url`; returns rows per second. */
export async function rawCopyRate(url: string, events: readonly Event[]): Promise<number> {
  const tagsAt = INSERT_COLUMNS.findIndex(([name]) => name === 'tags');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    function* lines() {
      let buffer = '';
      for (const event of events) {
        const values = rowValues(toStorageRow(event));
        values[tagsAt] = '{}';
        buffer += `${values.map(copyText).join('\t')}\n`;
        if (buffer.length > 256 * 1024) {
          yield buffer;
          buffer = '';
        }
      }
      if (buffer) yield buffer;
    }
    const started = performance.now();
    await pipeline(
      Readable.from(lines()),
      client.query(copyFrom(`COPY events (${INSERT_COLUMNS.map(([n]) => n).join(', ')}) FROM STDIN`)),
    );
    const rate = events.length / ((performance.now() - started) / 1000);
    await client.query('ANALYZE events');
    return rate;
  } finally {
    await client.end();
  }
}
