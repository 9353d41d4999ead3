/**
 * Who may read `/metrics` on either server (security review, issue 15 item 13): the Prometheus
 * text names gateways, versions and counts, so an operator can require a bearer token (stored as
 * its SHA-256, like central's `api.tokens`), restrict the peer address to CIDR blocks, or both
 * (then both must pass). With neither configured `/metrics` stays open, as before: keep it on a
 * management network. `/healthz` is never behind this and says only whether the server is up.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { refuse } from '../http-errors.ts';
import { clientAddress } from './middleware.ts';
import { bearerToken } from './session.ts';

const cidrSchema = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: 'expected an address block such as 10.0.0.0/8, 192.0.2.7/32 or ::1/128',
});

export const metricsAccessSchema = z
  .strictObject({
    allow: z
      .array(cidrSchema)
      .max(256)
      .default([])
      .describe(
        'Peer address blocks (CIDR, IPv4 or IPv6) that may read /metrics; empty: any address. No proxy header is trusted.',
      ),
    token_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits (sha256 of the token)')
      .optional()
      .describe(
        'SHA-256 (hex) of a bearer token /metrics requires (`Authorization: Bearer <token>`; Prometheus: `authorization.credentials_file`). Absent: no token.',
      ),
  })
  .prefault({});

export type MetricsAccessConfig = z.output<typeof metricsAccessSchema>;

function parseCidr(value: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', bits, extra] = value.split('/');
  if (extra !== undefined) return undefined;
  const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!type) return undefined;
  const max = type === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, type };
}

/** Whether the peer may read /metrics, and the refusal when not. */
export function createMetricsGuard(config: MetricsAccessConfig): MiddlewareHandler {
  const blocks = new BlockList();
  for (const cidr of config.allow) {
    const parsed = parseCidr(cidr)!;
    blocks.addSubnet(parsed.address, parsed.prefix, parsed.type);
  }
  const digest = config.token_sha256 ? Buffer.from(config.token_sha256, 'hex') : undefined;
  return async (c, next) => {
    if (config.allow.length > 0) {
      const address = clientAddress(c);
      const type = address && isIPv4(address) ? 'ipv4' : address && isIPv6(address) ? 'ipv6' : undefined;
      if (!address || !type || !blocks.check(address, type)) {
        return refuse(c, 403, 'forbidden', 'this address may not read /metrics');
      }
    }
    if (digest) {
      const token = bearerToken(c.req.header('authorization'));
      const presented = createHash('sha256')
        .update(token ?? '', 'utf8')
        .digest();
      if (!token || !timingSafeEqual(presented, digest)) {
        return refuse(c, 401, 'unauthenticated', '/metrics requires its bearer token');
      }
    }
    await next();
  };
}
