/**
 * Enrichment lookups (bearer token): `GET /api/enrich/ip/:ip` says what an address is (scope,
 * OT network, country and city of public ones, threat-intel hits), and `GET /api/devices` lists
 * the central device inventory merged from every gateway (filters `gateway`, `protocol`, `limit`).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { EVENT_SOURCES } from '../../protocols/event/schema.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type * as Api from '../../protocols/api/central.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import type { Enrichment } from '../enrich/index.ts';
import { listDevices } from '../inventory/devices.ts';
import type { SqlExecutor } from '../store/sql-client.ts';
import { intelApi } from './intel.ts';
import { parseQuery } from './search-params.ts';

export const devicesQuery = z.strictObject({
  gateway: z.string().min(1).max(64).optional(),
  protocol: z.enum(EVENT_SOURCES).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

export function enrichApi(enrichment: Enrichment, sql: SqlExecutor) {
  const api = new Hono();
  api.get('/enrich/ip/:ip', requirePermission('read'), (c) => {
    const ip = c.req.param('ip');
    const info = ip.length <= 64 ? enrichment.ipInfo(ip) : undefined;
    if (!info) throw apiError(400, 'invalid_path', 'not an IP address', { field: 'ip' });
    return c.json({ ...info, intel: enrichment.intelFor(info.ip) });
  });
  // Threat-intel feed status (intel.ts), mounted with the enrichment routes.
  api.route('/', intelApi(enrichment));
  api.get('/devices', requirePermission('read'), async (c) => {
    const q = parseQuery(devicesQuery, c.req.query());
    return c.json({ devices: await listDevices(sql, q) } satisfies Api.DevicesResponse);
  });
  return api;
}
