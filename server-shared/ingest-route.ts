/**
 * The HTTP ingest routes both servers mount (issue 20): `POST /api/ingest` (NDJSON, a JSON array,
 * or plain lines; 202 once the events are durable: the gateway's queue, central's store) and the
 * Elasticsearch bulk shape at `POST /api/ingest/_bulk` and `POST /_bulk` (200 with an
 * Elasticsearch-shaped answer, which Fluent Bit, Vector, Logstash and Beats read). Each needs the
 * `ingest` permission; refusals are audited by the auth middleware, accepted requests are counted,
 * not audited one by one (they are data, not changes). A write the store refuses for room answers
 * 429, one that fails 503, both with `retry-after`; so does a request over the concurrency cap.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { parseIngestBody } from '../protocols/http-ingest/index.ts';
import { ingestItemToEvent } from '../protocols/http-ingest/to-event.ts';
import type { PendingEvent } from '../protocols/event/schema.ts';
import { apiError } from './http-errors.ts';
import { type IngestConfig, readCappedBody } from './ingest-body.ts';
import { clientAddress } from './web-auth/middleware.ts';
import { requirePermission } from './web-auth/permissions.ts';

export interface IngestRouteDeps {
  config: IngestConfig;
  /** Makes the events durable; rejects with `full` true when there is no room (429), else 503. */
  write(events: PendingEvent[]): Promise<void>;
  isFull(error: unknown): boolean;
  /** Counts: accepted events, refused items (bad lines), refused requests by reason. */
  count(what: 'accepted' | 'invalid' | 'refused', n: number, reason?: string): void;
  now?: () => Date;
}

export function registerIngestRoutes(app: Hono, deps: IngestRouteDeps, auth: MiddlewareHandler): void {
  if (!deps.config.enabled) return;
  const { config } = deps;
  let inFlight = 0;
  const retry = { 'retry-after': String(config.retry_after_secs) };

  const handle = async (c: Context, bulk: boolean) => {
    if (inFlight >= config.max_concurrent_requests) {
      deps.count('refused', 1, 'concurrency');
      throw apiError(429, 'too_many_requests', 'too many ingest requests at once', {
        headers: { 'retry-after': '1' },
      });
    }
    inFlight++;
    try {
      const started = Date.now();
      const text = await readCappedBody(c.req.raw, config.max_body_bytes).catch(
        (error: { status?: number }) => {
          if (error.status === 413) deps.count('refused', 1, 'too_large');
          throw error;
        },
      );
      const parsed = parseIngestBody(text, {
        bulk,
        maxItems: config.max_events_per_request,
        maxItemChars: config.max_body_bytes,
      });
      const received = deps.now?.() ?? new Date();
      const address = clientAddress(c);
      const identity = c.get('auth');
      const ctx = {
        received,
        ...(address ? { peer: { ip: address, port: 0 } } : {}),
        by: identity?.tokenName ?? identity?.actor,
      };
      const events = parsed.items.map((item) => ingestItemToEvent(item, ctx));
      if (parsed.problems.length > 0) deps.count('invalid', parsed.problems.length);
      try {
        if (events.length > 0) await deps.write(events);
      } catch (error) {
        const full = deps.isFull(error);
        deps.count('refused', 1, full ? 'full' : 'write_failed');
        throw full
          ? apiError(429, 'too_many_requests', 'no room to store the events now', { headers: retry })
          : apiError(503, 'unavailable', 'the events could not be stored now', { headers: retry });
      }
      deps.count('accepted', events.length);
      c.set('audited', true);
      if (!bulk)
        return c.json(
          {
            accepted: events.length,
            rejected: parsed.problems.length,
            problems: parsed.problems.slice(0, 100),
          },
          202,
        );
      const items = [
        ...(parsed.actions ?? []).map((action) => ({ [action]: { status: 201, result: 'created' } })),
        ...parsed.problems.map((p) => ({
          index: {
            status: 400,
            error: { type: 'mapper_parsing_exception', reason: `line ${p.line}: ${p.error}` },
          },
        })),
      ];
      return c.json({ took: Date.now() - started, errors: parsed.problems.length > 0, items }, 200);
    } finally {
      inFlight--;
    }
  };

  app.post('/api/ingest', requirePermission('ingest'), (c) => handle(c, false));
  app.post('/api/ingest/_bulk', requirePermission('ingest'), (c) => handle(c, true));
  // Elasticsearch clients post to /_bulk at the root (outside /api, so the auth runs here too).
  app.post('/_bulk', auth, requirePermission('ingest'), (c) => handle(c, true));
}
