/**
 * The `enrichment:` block of central's config: the plant's OT networks (labelled on every IP
 * lookup), GeoIP on or off, and the threat-intelligence lists to load at start.
 */
import { z } from 'zod';
import { cidrList } from './ip.ts';

export const enrichmentConfigSchema = z
  .strictObject({
    ot_networks: z
      .array(z.string())
      .default([])
      .superRefine((cidrs, ctx) => {
        for (const [i, cidr] of cidrs.entries()) {
          try {
            cidrList([cidr]);
          } catch {
            ctx.addIssue({ code: 'custom', path: [i], message: `not a CIDR: ${cidr}` });
          }
        }
      })
      .describe('CIDRs of the OT networks (e.g. 10.20.0.0/16): addresses inside are labelled ot.'),
    geoip: z
      .boolean()
      .default(true)
      .describe('Country and city of public addresses (geoip-lite, ~150 MB when used).'),
    reverse_dns: z
      .strictObject({
        enabled: z.boolean().default(true),
        timeout_ms: z.number().int().min(50).max(30_000).default(1_000),
        concurrency: z.number().int().min(1).max(64).default(4),
        cache_entries: z.number().int().min(1).max(1_000_000).default(10_000),
        ttl_secs: z.number().int().min(1).default(3_600),
        servers: z.array(z.string().min(1)).optional().describe('DNS servers; the system ones when absent.'),
      })
      .prefault({})
      .describe('Host names of event addresses from a bounded cache; lookups never hold up ingest.'),
    assets: z
      .array(
        z
          .strictObject({
            device_id: z.string().min(1).max(256).optional(),
            ip: z.string().min(1).max(64).optional().describe('An address or a CIDR.'),
            name: z.string().min(1).max(128).optional(),
            role: z.string().min(1).max(64).optional(),
            site: z.string().min(1).max(64).optional(),
          })
          .refine((a) => a.device_id !== undefined || a.ip !== undefined, 'device_id or ip is required')
          .refine((a) => {
            if (a.ip === undefined) return true;
            try {
              cidrList([a.ip]);
              return true;
            } catch {
              return false;
            }
          }, 'ip is not an address or a CIDR'),
      )
      .max(100_000)
      .default([])
      .describe('Name, role and site of devices (by device id) or addresses, stored with their events.'),
    inventory_refresh_secs: z
      .number()
      .int()
      .min(1)
      .default(60)
      .describe("How often device names are re-read from central's inventory for enrichment."),
    intel: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z0-9_-]{1,64}$/, 'lower-case letters, digits, _ and -'),
          file: z.string().min(1).describe('CSV (type,value,description,level) or STIX 2.1 bundle (JSON).'),
          format: z.enum(['csv', 'stix']),
          level: z
            .enum(['informational', 'low', 'medium', 'high', 'critical'])
            .default('high')
            .describe('Sigma level of the alerts its hits raise, unless an indicator says otherwise.'),
        }),
      )
      .default([])
      .describe('Threat-intelligence indicator lists; a stored event matching one raises an alert.'),
  })
  .prefault({});

export type EnrichmentConfig = z.output<typeof enrichmentConfigSchema>;
