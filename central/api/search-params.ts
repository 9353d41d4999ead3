/**
 * Query parameters shared by the event search routes: the filters of `GET /api/events` and the
 * time-range rules of the aggregate and export routes (a required, bounded range), the time
 * field those ranges apply to (`ts` or `received`) and the tag filter, validated
 * with zod so that a bad parameter is a 400 naming it.
 */
import { z } from 'zod';
import { EVENT_SOURCES } from '../../protocols/event/schema.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import { type EventFilter, TIME_FIELDS } from '../store/types.ts';

/** Longest time range an aggregate or export may cover. */
export const MAX_RANGE_DAYS = 31;
/** Range used when `from` is not given: the last 24 hours before `to`. */
export const DEFAULT_RANGE_MS = 24 * 3_600_000;
const DAY_MS = 86_400_000;
/**
 * Times outside years 0000–9999 are refused: JavaScript's dates reach year 275760, PostgreSQL
 * parses neither that nor the `+275760-…` form `toISOString` prints for it (a 500 before).
 */
const MIN_TIME_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** An ISO 8601 time or milliseconds since the epoch, in years 0000–9999. */
export const time = z
  .string()
  .transform((s, ctx) => {
    const date = /^\d+$/.test(s) ? new Date(Number(s)) : new Date(s);
    const ms = date.getTime();
    if (Number.isNaN(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected an ISO 8601 time or epoch milliseconds in years 0000-9999',
      });
      return z.NEVER;
    }
    return date;
  })
  .optional();

export const filterShape = {
  from: time,
  to: time,
  source: z.enum(EVENT_SOURCES).optional(),
  host: z.string().min(1).max(255).optional(),
  severity_max: z.coerce.number().int().min(0).max(7).optional(),
  q: z.string().min(1).max(256).optional(),
  gateway: z.string().min(1).max(64).optional(),
  device_id: z.string().min(1).max(256).optional(),
  action: z.string().min(1).max(128).optional(),
  /** Events carrying this tag, e.g. `clock_skew` (store/clock-skew.ts). */
  tag: z.string().min(1).max(64).optional(),
  /**
   * Which time `from`/`to` and histogram buckets use: `ts`, the device's own (default), or
   * `received`, the gateway's arrival time, which a device cannot backdate (issue 15 item 12).
   */
  time_field: z.enum(TIME_FIELDS).default('ts'),
};

type FilterParams = z.output<z.ZodObject<typeof filterShape>>;

/** Parses `query` with `schema`, or throws a 400 naming the first bad parameter. */
export function parseQuery<T>(schema: z.ZodType<T>, query: Record<string, string>): T {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue?.path.join('.');
    throw apiError(400, 'invalid_query', `invalid query parameter ${name}: ${issue?.message}`, {
      field: name || undefined,
    });
  }
  return parsed.data;
}

/** `geo.country:RU`, `intel.feed:abuse`, `asset.site:north`: the enrichment tags (enrich/annotate.ts). */
const ENRICHMENT_TERM = /^(?:geo|intel|asset)\.[a-z_]+:\S+$/;

/** The tag of an enrichment term as stored: `geo.country:ru` → `geo.country:RU`, `geo.asn:64500` → `geo.asn:AS64500`. */
export function enrichmentTerm(term: string): string {
  const m = /^geo\.(country|asn):(.+)$/i.exec(term);
  if (!m) return term;
  if (m[1]!.toLowerCase() === 'country') return `geo.country:${m[2]!.toUpperCase()}`;
  return `geo.asn:${/^\d+$/.test(m[2]!) ? `AS${m[2]}` : m[2]!.toUpperCase()}`;
}

export function toFilter(q: FilterParams): EventFilter {
  // A `q` that is one enrichment term searches its tag (when no other tag is asked for).
  if (q.q !== undefined && q.tag === undefined && ENRICHMENT_TERM.test(q.q)) {
    q = { ...q, tag: enrichmentTerm(q.q), q: undefined };
  }
  return {
    from: q.from,
    to: q.to,
    source: q.source,
    host: q.host,
    severityMax: q.severity_max,
    text: q.q,
    gateway: q.gateway,
    deviceId: q.device_id,
    action: q.action,
    tag: q.tag,
    timeField: q.time_field,
  };
}

/** The filter with a closed range: `to` defaults to now, `from` to 24 h before; at most MAX_RANGE_DAYS. */
export function boundedFilter(q: FilterParams, now: Date): EventFilter & { from: Date; to: Date } {
  const to = q.to ?? now;
  const from = q.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from.getTime() >= to.getTime()) {
    throw apiError(400, 'invalid_query', 'from must be before to', { field: 'from' });
  }
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw apiError(400, 'invalid_query', `the time range may cover at most ${MAX_RANGE_DAYS} days`, {
      field: 'from',
    });
  }
  return { ...toFilter(q), from, to };
}
