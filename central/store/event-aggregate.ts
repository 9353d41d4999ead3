/**
 * Aggregations over `events` for the search API, shared by both adapters: time histogram buckets
 * (epoch-aligned, UTC, fixed width) and the top values of one whitelisted column. Filters are
 * the same parameterised clauses as the listing (event-query.ts); the column of a top-values
 * query is picked from a fixed map, never spliced from input.
 */
import { InvalidQueryError } from './errors.ts';
import { filterClauses, timeColumn } from './event-query.ts';
import type { SqlExecutor } from './sql-client.ts';
import type { EventFilter, HistogramBucket, TopField, TopValue } from './types.ts';

/** The column behind each field name the API accepts. */
export const TOP_COLUMNS: Record<TopField, string> = {
  host: 'host',
  action: 'action',
  source: 'source',
  gateway: 'gateway',
  device_id: 'device_id',
  src_ip: 'src_ip',
};

/** Upper bound on buckets a query may ask for (interval against time range). */
export const MAX_BUCKETS = 5000;
export const MAX_TOP_LIMIT = 1000;

function builder() {
  const params: unknown[] = [];
  return {
    params,
    param: (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    },
  };
}

/** Non-empty buckets, oldest first: `start` = floor(time / interval) * interval, time = `filter.timeField`. */
export async function histogram(
  db: SqlExecutor,
  filter: EventFilter,
  intervalMs: number,
): Promise<HistogramBucket[]> {
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1000) {
    throw new InvalidQueryError('interval must be a whole number of seconds, at least 1');
  }
  if (filter.from && filter.to && (filter.to.getTime() - filter.from.getTime()) / intervalMs > MAX_BUCKETS) {
    throw new InvalidQueryError(`more than ${MAX_BUCKETS} buckets: use a longer interval or a shorter range`);
  }
  const { params, param } = builder();
  const where = filterClauses(filter, param);
  const width = param(intervalMs);
  const time = timeColumn(filter.timeField);
  const { rows } = await db.query<{ bucket: string | number; n: string | number }>(
    `SELECT floor(extract(epoch FROM ${time}) * 1000 / ${width}::bigint)::bigint * ${width}::bigint AS bucket,
            count(*) AS n
       FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      GROUP BY 1 ORDER BY 1`,
    params,
  );
  return rows.map((r) => ({ start: new Date(Number(r.bucket)), count: Number(r.n) }));
}

/** Most frequent non-NULL values, count descending, ties by value (byte order, same on every server). */
export async function topValues(
  db: SqlExecutor,
  filter: EventFilter,
  field: TopField,
  limit: number,
): Promise<TopValue[]> {
  const column = TOP_COLUMNS[field];
  if (column === undefined) throw new InvalidQueryError(`cannot aggregate on ${String(field)}`);
  const bounded = Math.min(MAX_TOP_LIMIT, Math.max(1, Math.trunc(limit) || 10));
  const { params, param } = builder();
  const where = [...filterClauses(filter, param), `${column} IS NOT NULL`];
  const { rows } = await db.query<{ value: string; n: string | number }>(
    `SELECT ${column} AS value, count(*) AS n FROM events WHERE ${where.join(' AND ')}
      GROUP BY 1 ORDER BY n DESC, ${column} COLLATE "C" LIMIT ${param(bounded)}`,
    params,
  );
  return rows.map((r) => ({ value: r.value, count: Number(r.n) }));
}
