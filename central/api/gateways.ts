/**
 * Gateway management: enrollment tokens (`POST /api/enrollment-tokens`), the gateway list
 * (`GET /api/gateways`), revocation (`POST /api/gateways/:id/revoke`), all behind the API bearer
 * token; and the enrollment exchange itself (`POST /enroll`), which is authenticated by the
 * one-time token in its body. Every refusal and every revocation is an event central stores;
 * refusals (unauthenticated peers) are aggregated per address and interval (gateways/refusals.ts).
 * Central's own id is reserved: no gateway may enroll under it, since its events would pass for
 * central's own.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { unmapIpv4 } from '../../protocols/event/address.ts';
import { gatewayIdSchema } from '../../protocols/event/schema.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type * as Api from '../../protocols/api/central.ts';
import type { Wire } from '../../protocols/api/wire.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import type { CentralEvents } from '../events.ts';
import type { Refusals } from '../gateways/refusals.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { GatewayRulesState } from '../rules/store.ts';
import type { CentralMetrics } from '../metrics.ts';
import { jsonBody } from './body.ts';

export interface GatewaysApiDeps {
  registry: GatewayRegistry;
  centralEvents: CentralEvents;
  metrics: CentralMetrics;
  /** Refused enrollments go through it (bounded rows per address and interval). */
  refusals: Refusals;
  /** Central's own id (`central.id`): reserved, never a gateway's. */
  centralId: string;
  defaultTtlSecs: number;
  connected: () => Set<string>;
  disconnect: (gateway: string) => void;
  now?: () => Date;
  /** Per gateway, the rule set assigned and the one it reports running (link SPEC §8). */
  rulesStates?: () => Promise<Map<string, GatewayRulesState>>;
}

export const tokenRequest = z.strictObject({
  gateway_id: gatewayIdSchema.optional(),
  ttl_secs: z
    .number()
    .int()
    .positive()
    .max(30 * 24 * 3600)
    .optional(),
});

const enrollRequest = z.strictObject({
  token: z.string().min(1).max(256),
  gateway_id: gatewayIdSchema,
  public_key: z.string().min(1).max(1024),
});

/** Routes under /api (the bearer token middleware runs before them). */
export function gatewaysApi(deps: GatewaysApiDeps) {
  const now = deps.now ?? (() => new Date());
  const api = new Hono();
  api.post('/enrollment-tokens', requirePermission('admin'), async (c) => {
    const request = await jsonBody(c.req, tokenRequest);
    if (request.gateway_id === deps.centralId) {
      throw apiError(400, 'invalid_body', `"${deps.centralId}" is central's own id (central.id)`, {
        field: 'gateway_id',
      });
    }
    const created = await deps.registry.createEnrollmentToken({
      gatewayId: request.gateway_id,
      ttlSecs: request.ttl_secs ?? deps.defaultTtlSecs,
      now: now(),
    });
    return c.json(
      { token: created.token, gateway_id: request.gateway_id ?? null, expires_at: created.expiresAt },
      201,
    );
  });
  api.get('/gateways', requirePermission('read'), async (c) => {
    const connected = deps.connected();
    const gateways = await deps.registry.list();
    const rules = (await deps.rulesStates?.()) ?? new Map<string, GatewayRulesState>();
    return c.json({
      gateways: gateways.map((g) => ({
        id: g.id,
        status: g.status,
        connected: connected.has(g.id),
        enrolled_at: g.enrolledAt,
        revoked_at: g.revokedAt,
        last_seen_at: g.lastSeenAt,
        clock_offset_ms: g.clockOffsetMs,
        rules: rules.get(g.id) ?? null,
      })),
    } satisfies Wire<Api.GatewaysResponse>);
  });
  api.post('/gateways/:id/revoke', requirePermission('admin'), async (c) => {
    const id = c.req.param('id');
    if (!(await deps.registry.revoke(id, now()))) throw apiError(404, 'not_found', `no gateway ${id}`);
    deps.disconnect(id);
    await deps.centralEvents.raise({
      kind: 'audit',
      action: 'central.gateway_revoked',
      severity: 5,
      message: `gateway "${id}" revoked; its connections are closed and refused from now on`,
      fields: { gateway_id: id },
    });
    return c.json({ id, status: 'revoked' });
  });
  return api;
}

/** `POST /enroll`: exchanges a one-time token and a public key for a registered gateway. */
export function enrollApi(deps: GatewaysApiDeps) {
  const now = deps.now ?? (() => new Date());
  const api = new Hono();
  api.post('/', async (c) => {
    const request = await jsonBody(c.req, enrollRequest);
    const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
      ?.socket?.remoteAddress;
    // The reserved id is refused before the token is looked at, so the token is not spent.
    const result =
      request.gateway_id === deps.centralId
        ? ({ ok: false, reason: 'reserved_id' } as const)
        : await deps.registry.enroll({
            token: request.token,
            gatewayId: request.gateway_id,
            publicKey: request.public_key,
            now: now(),
          });
    const ip = remote === undefined ? undefined : unmapIpv4(remote);
    if (!result.ok) {
      deps.metrics.enrollFailures.inc({ reason: result.reason });
      await deps.refusals.refuse(ip, {
        kind: 'security',
        action: 'central.enroll_refused',
        severity: 4,
        message: `refused enrollment of gateway "${request.gateway_id}": ${result.reason.replaceAll('_', ' ')}`,
        fields: { claimed_gateway: request.gateway_id, reason: result.reason },
      });
      const status =
        result.reason === 'gateway_exists'
          ? 409
          : result.reason === 'bad_key' || result.reason === 'reserved_id'
            ? 400
            : 401;
      throw apiError(status, 'enrollment_refused', `enrollment refused: ${result.reason}`);
    }
    await deps.centralEvents.raise({
      kind: 'audit',
      action: 'central.gateway_enrolled',
      severity: 5,
      message: `gateway "${request.gateway_id}" enrolled`,
      fields: { gateway_id: request.gateway_id },
      ...(ip && { src: { ip } }),
    });
    return c.json({ gateway_id: request.gateway_id }, 201);
  });
  return api;
}
