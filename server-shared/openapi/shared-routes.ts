/**
 * OpenAPI descriptions of the routes both servers mount from server-shared besides web-auth:
 * HTTP ingest (server-shared/ingest-route.ts) and the document itself.
 */
import { z } from 'zod';
import type { RouteDocs } from './index.ts';

const ingestBody = ['application/x-ndjson', 'application/json', 'text/plain'];

export const SHARED_ROUTE_DOCS: RouteDocs = {
  'POST /api/ingest': {
    summary:
      'Ingest events: NDJSON, a JSON array, or plain/syslog lines (gzip accepted); 202 after the durable write',
    bodyContentTypes: ingestBody,
    responses: {
      202: {
        description: 'Stored',
        schema: z.object({
          accepted: z.number().int(),
          rejected: z.number().int(),
          problems: z.array(z.unknown()),
        }),
      },
    },
  },
  'POST /api/ingest/_bulk': {
    summary: 'Ingest an Elasticsearch _bulk body',
    bodyContentTypes: ingestBody,
    responses: {
      200: {
        description: 'Stored, with one item per document as Elasticsearch answers',
        schema: z.object({ took: z.number(), errors: z.boolean(), items: z.array(z.unknown()) }),
      },
    },
  },
  'GET /api/openapi.json': {
    summary: 'This OpenAPI 3.1 document',
    responses: {
      200: {
        description: 'The document',
        schema: z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }),
      },
    },
  },
};
