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
