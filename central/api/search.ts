/**
 * Search aggregates and export under `/api/events`: `GET /histogram` (events per time bucket),
 * `GET /top` (most frequent values of one field) and `GET /export` (every matching event as
 * NDJSON or CSV). All take the filters of `GET /api/events` over a closed time range of at most
 * MAX_RANGE_DAYS. The export is streamed page by page with the keyset cursor, so memory stays
 * flat whatever its size; it stops at `max_events` and ends early when the client goes away.
 */
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Event } from '../../protocols/event/schema.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type * as Api from '../../protocols/api/central.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import { csvRecord } from '../store/archive-csv.ts';
import { MAX_BUCKETS, MAX_TOP_LIMIT } from '../store/event-aggregate.ts';
import { type EventStore, TOP_FIELDS } from '../store/types.ts';
import { boundedFilter, filterShape, parseQuery } from './search-params.ts';

/** Histogram intervals the API accepts. */
export const INTERVALS: Record<string, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '3h': 10_800_000,
  '6h': 21_600_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
};
export const EXPORT_PAGE = 1000;
export const EXPORT_DEFAULT_MAX = 100_000;
export const EXPORT_MAX = 1_000_000;

export const CSV_COLUMNS = [
  'id',
  'gateway',
  'seq',
  'ts',
  'received',
  'source',
  'kind',
  'action',
  'severity',
  'host',
  'device_id',
  'device_name',
  'src_ip',
  'src_port',
  'dst_ip',
  'dst_port',
  'message',
  'tags',
  'fields',
  'threat',
] as const;

/** One event as a CSV record in CSV_COLUMNS order; absent values are empty, objects are JSON. */
export function eventCsv(e: Event): string {
  const text = (v: unknown) => (v === undefined || v === null ? null : String(v));
  return csvRecord([
    e.id,
    e.gateway,
    String(e.seq),
    e.ts,
    e.received,
    e.source,
    e.kind,
    e.action,
    String(e.severity),
    text(e.host),
    text(e.device?.id),
    text(e.device?.name),
    text(e.src?.ip),
    text(e.src?.port),
    text(e.dst?.ip),
    text(e.dst?.port),
    e.message,
    JSON.stringify(e.tags),
    JSON.stringify(e.fields),
    e.threat ? JSON.stringify(e.threat) : null,
  ]);
}

export const histogramSchema = z.strictObject({
  ...filterShape,
  interval: z.enum(Object.keys(INTERVALS) as [string, ...string[]]).default('1h'),
});
export const topSchema = z.strictObject({
  ...filterShape,
  field: z.enum(TOP_FIELDS),
  limit: z.coerce.number().int().min(1).max(MAX_TOP_LIMIT).default(10),
});
export const exportSchema = z.strictObject({
  ...filterShape,
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  max_events: z.coerce.number().int().min(1).max(EXPORT_MAX).default(EXPORT_DEFAULT_MAX),
});

export function searchApi(store: EventStore, logger: Logger, now: () => Date = () => new Date()) {
  const api = new Hono();

  api.get('/histogram', requirePermission('read'), async (c) => {
    const q = parseQuery(histogramSchema, c.req.query());
    const filter = boundedFilter(q, now());
    const width = INTERVALS[q.interval]!;
    const first = Math.floor(filter.from.getTime() / width) * width;
    if ((filter.to.getTime() - first) / width > MAX_BUCKETS) {
      throw apiError(400, 'invalid_query', `more than ${MAX_BUCKETS} buckets: use a longer interval`, {
        field: 'interval',
      });
    }
    const found = new Map((await store.histogram(filter, width)).map((b) => [b.start.getTime(), b.count]));
    // Every bucket of the range, empty ones as 0, so a chart needs no gap filling.
    const buckets: Array<{ start: string; count: number }> = [];
    for (let t = first; t < filter.to.getTime(); t += width) {
      buckets.push({ start: new Date(t).toISOString(), count: found.get(t) ?? 0 });
    }
    return c.json({
      from: filter.from.toISOString(),
      to: filter.to.toISOString(),
      interval: q.interval,
      interval_ms: width,
      total: buckets.reduce((sum, b) => sum + b.count, 0),
      buckets,
    } satisfies Api.Histogram);
  });

  api.get('/top', requirePermission('read'), async (c) => {
    const q = parseQuery(topSchema, c.req.query());
    const filter = boundedFilter(q, now());
    const values = await store.topValues(filter, q.field, q.limit);
    return c.json({ from: filter.from.toISOString(), to: filter.to.toISOString(), field: q.field, values });
  });

  api.get('/export', requirePermission('read'), (c) => {
    const q = parseQuery(exportSchema, c.req.query());
    const filter = boundedFilter(q, now());
    const csv = q.format === 'csv';
    c.header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    c.header('content-disposition', `attachment; filename="events.${csv ? 'csv' : 'ndjson'}"`);
    c.header('x-export-max-events', String(q.max_events));
    return stream(c, async (out) => {
      let aborted = false;
      out.onAbort(() => {
        aborted = true;
      });
      if (csv) await out.write(csvRecord([...CSV_COLUMNS]));
      let cursor: string | undefined;
      let sent = 0;
      try {
        while (!aborted && sent < q.max_events) {
          const page = await store.queryEvents({
            ...filter,
            limit: Math.min(EXPORT_PAGE, q.max_events - sent),
            cursor,
          });
          let chunk = '';
          for (const event of page.events) chunk += csv ? eventCsv(event) : `${JSON.stringify(event)}\n`;
          if (chunk) await out.write(chunk);
          sent += page.events.length;
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
      } catch (error) {
        // Headers are gone: the truncated body and the log are all that can tell.
        logger.error({ err: (error as Error).message, sent }, 'export failed mid-stream');
        out.abort();
      }
    });
  });
  return api;
}
