/**
 * The `reports:` block of central's config: the sites reports can be made for (a site is the
 * gateways installed there), where reports go (e-mail over SMTP, a signed webhook), the schedules
 * (daily or weekly, fleet-wide or one site, in a time zone), and how PDFs are printed. Secrets
 * (the SMTP password, the webhook's HMAC key) come from the environment or a file, as for sinks.
 */
import { z } from 'zod';
import { allowAddressesSchema } from '../sinks/config.ts';

const endpoint = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');
const name = z.string().regex(/^[a-z0-9_-]{1,64}$/, 'lower-case letters, digits, _ and -');

const secret = {
  secret_env: z.string().min(1).optional().describe('Environment variable holding the secret.'),
  secret_file: z.string().min(1).optional().describe('File holding the secret (mode 0600).'),
};

/** A time zone the runtime knows (IANA name, e.g. Europe/Berlin). */
export const timeZoneSchema = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'unknown time zone (expected an IANA name such as Europe/Berlin or UTC)');

const destinationSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('email'),
      endpoint: endpoint.describe('SMTP server, host:port.'),
      secure: z.boolean().default(false).describe('TLS from the start (port 465); otherwise STARTTLS.'),
      require_tls: z
        .boolean()
        .default(true)
        .describe('Refuse to send unless STARTTLS succeeds (reports hold plant details).'),
      ca_file: z.string().optional().describe('CA to verify the SMTP server with (default: system CAs).'),
      user: z.string().optional(),
      ...secret,
      from: z.string().min(3),
      to: z.array(z.string().min(3)).min(1),
      subject_prefix: z.string().max(64).default('[SIEM report]'),
      timeout_secs: z.number().positive().max(300).default(60),
    })
    .describe('The report as an e-mail: an HTML summary with the HTML, PDF and CSV attached.'),
  z
    .strictObject({
      type: z.literal('webhook'),
      url: z.url().describe('POST target; https:// unless allow_http.'),
      ...secret,
      ca_file: z.string().optional().describe('CA to verify the receiver with (default: system CAs).'),
      allow_http: z.boolean().default(false).describe('Allow a plain http:// URL (tests, a local relay).'),
      allow_addresses: allowAddressesSchema,
      allow_private_addresses: z
        .boolean()
        .default(false)
        .describe(
          'Deprecated, kept for older configs: true allows every loopback and private address (as if allow_addresses listed them all). List the receiver in allow_addresses instead.',
        ),
      timeout_secs: z.number().positive().max(300).default(60),
    })
    .describe(
      'The report as signed JSON (x-siem-signature, as the webhook sink) with its CSV and, base64, its PDF.',
    ),
]);

export type ReportDestination = z.output<typeof destinationSchema>;

const scheduleSchema = z.strictObject({
  name: name.describe('Names the schedule in the report list and the database (keep it stable).'),
  period: z.enum(['daily', 'weekly']).describe('daily: midnight to midnight; weekly: Monday to Monday.'),
  scope: z
    .string()
    .min(1)
    .default('fleet')
    .describe("'fleet' (every gateway) or the name of a site under reports.sites."),
  time_zone: timeZoneSchema.optional().describe('Where midnight is (default: reports.time_zone).'),
  delay_secs: z
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(900)
    .describe('Wait this long after the period ends, so events buffered at the edge have drained.'),
  formats: z
    .array(z.enum(['html', 'pdf', 'csv']))
    .min(1)
    .default(['html', 'pdf', 'csv'])
    .describe('What is delivered (all three are kept for download).'),
  deliver_to: z.array(name).default([]).describe('Destinations (reports.destinations) it is sent to.'),
  catch_up_periods: z
    .number()
    .int()
    .min(0)
    .max(31)
    .default(2)
    .describe(
      'After downtime, missed periods up to this many back are still reported (0: only the latest one).',
    ),
});

export type ReportSchedule = z.output<typeof scheduleSchema>;

export const reportsConfigSchema = z
  .strictObject({
    time_zone: timeZoneSchema.default('UTC').describe('Default time zone of the schedules.'),
    sites: z
      .array(
        z.strictObject({
          name: name.describe('The site (a plant, a building); alerts whose site is this name count too.'),
          title: z.string().min(1).max(120).optional().describe('Shown in the report (default: the name).'),
          gateways: z.array(z.string().min(1)).min(1).describe('The gateways installed at this site.'),
        }),
      )
      .default([])
      .describe('Sites reports can be made for.'),
    destinations: z
      .record(name, destinationSchema)
      .default({})
      .describe('Where scheduled reports are sent, by name.'),
    schedules: z.array(scheduleSchema).default([]).describe('Reports made on their own.'),
    check_interval_secs: z
      .number()
      .positive()
      .max(3600)
      .default(60)
      .describe('How often each central node looks for a period due.'),
    stale_claim_secs: z
      .number()
      .int()
      .min(60)
      .max(86_400)
      .default(1800)
      .describe('A report still running after this long is taken over (its node died); it is retried.'),
    delivery_retry_secs: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(300)
      .describe('A failed delivery is tried again after this long, three tries in all.'),
    buffered_after_secs: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(120)
      .describe(
        'An event stored this much later than its gateway received it was buffered at the edge (a link outage).',
      ),
    keep_days: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(400)
      .describe('Reports older than this are deleted.'),
    chromium_path: z
      .string()
      .min(1)
      .default('/usr/bin/chromium')
      .describe('The Chromium that prints PDFs; without it, reports have HTML and CSV only.'),
  })
  .prefault({})
  .superRefine((config, ctx) => {
    const sites = new Set(config.sites.map((s) => s.name));
    const seen = new Set<string>();
    for (const [i, s] of config.schedules.entries()) {
      if (seen.has(s.name))
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'name'],
          message: `duplicate schedule ${s.name}`,
        });
      seen.add(s.name);
      if (s.scope !== 'fleet' && !sites.has(s.scope))
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'scope'],
          message: `no site named ${s.scope} under reports.sites`,
        });
      for (const [j, d] of s.deliver_to.entries())
        if (!config.destinations[d])
          ctx.addIssue({
            code: 'custom',
            path: ['schedules', i, 'deliver_to', j],
            message: `no destination named ${d} under reports.destinations`,
          });
    }
    for (const [key, d] of Object.entries(config.destinations)) {
      if (d.type === 'webhook' && d.url.startsWith('http:') && !d.allow_http)
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', key, 'url'],
          message: 'a report webhook must be https:// (or set allow_http)',
        });
      if (d.type === 'webhook' && !d.secret_env && !d.secret_file)
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', key],
          message: 'secret_env or secret_file is required (HMAC key)',
        });
    }
  })
  .describe('Daily and weekly reports, per site and fleet-wide (docs/reports.md).');

export type ReportsConfig = z.output<typeof reportsConfigSchema>;
