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
    asn: z
      .strictObject({
        file: z
          .string()
          .min(1)
          .describe(
            'An iptoasn.com table (ip2asn-v4.tsv, ip2asn-combined.tsv: start, end, AS number, country, description; tab-separated), re-read on change and on SIGHUP.',
          ),
        max_ranges: z
          .number()
          .int()
          .min(1)
          .max(10_000_000)
          .default(2_000_000)
          .describe(
            'Most ranges kept (about 12 bytes each for IPv4, 36 for IPv6); more are skipped and counted.',
          ),
        max_bytes: z.number().int().min(1024).max(4_294_967_296).default(268_435_456),
        poll_secs: z.number().int().min(5).default(300).describe("How often the file's mtime is checked."),
      })
      .optional()
      .describe(
        'The autonomous system (ASN) of public addresses, which the GeoIP data lacks. Off when absent.',
      ),
    gateway_sites: z
      .record(z.string().min(1).max(64), z.string().min(1).max(64))
      .default({})
      .describe(
        'The site of each gateway (gateway id → site): a device or address it reports is at its site, unless enrichment.assets says otherwise.',
      ),
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
        z
          .strictObject({
            name: z.string().regex(/^[a-z0-9_-]{1,64}$/, 'lower-case letters, digits, _ and -'),
            file: z
              .string()
              .min(1)
              .optional()
              .describe('CSV (type,value,description,level), a plain list or a STIX 2.1 bundle (JSON).'),
            url: z.url().optional().describe('An HTTP(S) feed, polled with ETag / If-Modified-Since.'),
            taxii_collection: z
              .url()
              .optional()
              .describe('A TAXII 2.1 collection URL (…/collections/<id>/), polled with added_after.'),
            taxii_token: z.string().min(1).optional().describe('Bearer token of the TAXII server.'),
            format: z.enum(['csv', 'list', 'stix']).default('stix'),
            poll_secs: z
              .number()
              .int()
              .min(5)
              .default(300)
              .describe('How often URL and TAXII feeds are polled.'),
            max_age_days: z
              .number()
              .min(0)
              .optional()
              .describe('Indicators not seen again in a fetch for this long expire (URL and TAXII feeds).'),
            max_bytes: z.number().int().min(1024).max(1_073_741_824).default(16_777_216),
            max_indicators: z.number().int().min(1).max(10_000_000).default(1_000_000),
            timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
            level: z
              .enum(['informational', 'low', 'medium', 'high', 'critical'])
              .default('high')
              .describe('Sigma level of the alerts its hits raise, unless an indicator says otherwise.'),
          })
          .refine(
            (f) => [f.file, f.url, f.taxii_collection].filter((x) => x !== undefined).length === 1,
            'exactly one of file, url and taxii_collection',
          ),
      )
      .default([])
      .describe('Threat-intelligence indicator lists; a stored event matching one raises an alert.'),
    retro_hunt_hours: z
      .number()
      .int()
      .min(0)
      .max(24 * 31)
      .default(24)
      .describe('New indicators are matched against the stored events of this many hours (0: off).'),
    retro_hunt_max_events: z.number().int().min(1).default(200_000),
  })
  .prefault({});

export type EnrichmentConfig = z.output<typeof enrichmentConfigSchema>;
