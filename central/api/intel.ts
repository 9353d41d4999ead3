/**
 * Threat-intel feed status (issue 21 ask 2), bearer token or session with the `read` permission:
 * `GET /api/intel/feeds` lists every feed with its kind, source, indicator count, last fetch,
 * last success and last error.
 */
import { Hono } from 'hono';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type { Enrichment } from '../enrich/index.ts';

export function intelApi(enrichment: Enrichment) {
  const api = new Hono();
  api.get('/intel/feeds', requirePermission('read'), (c) => c.json({ feeds: enrichment.feeds.status() }));
  return api;
}
