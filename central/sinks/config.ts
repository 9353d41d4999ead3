/**
 * The `sinks:` block of central's config: named forwarding sinks, each `type: syslog | webhook |
 * email`, with a filter (minimum severity, rule tags, sites, gateways) and retry backoff.
 * Secrets (the webhook's HMAC key, the SMTP password) come from the environment or a file,
 * never from the YAML itself.
 */
import { z } from 'zod';
import { parseAddressRange } from './address-guard.ts';

const endpoint = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');

const filterSchema = z
  .strictObject({
    min_severity: z
      .number()
      .int()
      .min(0)
      .max(7)
      .default(7)
      .describe(
        'Forward alerts at least this severe (syslog scale: 0 emergency … 7 debug; 4 = warning and worse).',
      ),
    tags: z
      .array(z.string().min(1))
      .default([])
      .describe('Forward only alerts whose rule carries one of these tags (empty: any).'),
    sites: z.array(z.string().min(1)).default([]).describe('Only alerts of these sites (empty: any).'),
    gateways: z
      .array(z.string().min(1))
      .default([])
      .describe('Only alerts seen by these gateways (empty: any).'),
  })
  .prefault({});

const retrySchema = z
  .strictObject({
    initial_backoff_secs: z
      .number()
      .positive()
      .max(3600)
      .default(1)
      .describe('Wait after the first failure.'),
    max_backoff_secs: z
      .number()
      .positive()
      .max(86_400)
      .default(300)
      .describe('Longest wait between attempts; the wait doubles per failure up to this.'),
    poll_interval_secs: z
      .number()
      .positive()
      .max(3600)
      .default(5)
      .describe('How often the outbox is checked when nothing new was raised (new alerts wake it at once).'),
  })
  .prefault({});

const secretSchema = {
  secret_env: z.string().min(1).optional().describe('Environment variable holding the secret.'),
  secret_file: z.string().min(1).optional().describe('File holding the secret (mode 0600).'),
};

const common = { filter: filterSchema, retry: retrySchema };

/** The address guard's allow-list (address-guard.ts) of a webhook sink or a report webhook. */
export const allowAddressesSchema = z
  .array(
    z.string().refine((entry) => parseAddressRange(entry) !== null, 'expected an IP address or CIDR range'),
  )
  .max(64)
  .default([])
  .describe(
    'Loopback or private addresses and CIDR ranges (e.g. 10.20.0.0/16) the URL may resolve to: an internal SOAR host. Others are refused (SSRF guard); link-local and metadata addresses always are.',
  );

export const sinkConfigSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('syslog'),
      endpoint: endpoint.describe('The receiving syslog server, host:port.'),
      mode: z.enum(['tcp', 'tls']).default('tcp'),
      framing: z
        .enum(['octet_counting', 'lf'])
        .default('octet_counting')
        .describe('RFC 6587 §3.4.1 octet counting, or one message per line (§3.4.2).'),
      facility: z.number().int().min(0).max(23).default(13).describe('Syslog facility (13 = log audit).'),
      hostname: z
        .string()
        .min(1)
        .max(255)
        .optional()
        .describe('HOSTNAME of the messages (default: this host).'),
      tls: z
        .strictObject({
          ca_file: z.string().optional().describe('CA to verify the receiver with (default: system CAs).'),
          cert_file: z.string().optional(),
          key_file: z.string().optional(),
          server_name: z.string().optional().describe('Name to verify in its certificate.'),
        })
        .optional(),
      ...common,
    })
    .describe('Syslog with CEF payloads (RFC 5424 over TCP or TLS).'),
  z
    .strictObject({
      type: z.literal('webhook'),
      url: z.url().describe('POST target (https:// in production).'),
      ...secretSchema,
      timeout_secs: z.number().positive().max(300).default(10),
      allow_addresses: allowAddressesSchema,
      ...common,
    })
    .describe('JSON POST signed with HMAC-SHA256 (x-siem-signature) and an Idempotency-Key header.'),
  z
    .strictObject({
      type: z.literal('email'),
      endpoint: endpoint.describe('SMTP server, host:port.'),
      secure: z
        .boolean()
        .default(false)
        .describe('TLS from the start (port 465); otherwise STARTTLS when offered.'),
      require_tls: z.boolean().default(false).describe('Refuse to send unless STARTTLS succeeds.'),
      ca_file: z.string().optional(),
      user: z.string().optional(),
      ...secretSchema,
      from: z.string().min(3),
      to: z.array(z.string().min(3)).min(1),
      subject_prefix: z.string().default('[SIEM]'),
      timeout_secs: z.number().positive().max(300).default(30),
      ...common,
    })
    .describe('E-mail over SMTP.'),
]);

export const sinksConfigSchema = z
  .record(
    z.string().regex(/^[a-z0-9_-]{1,64}$/, 'sink names: lower-case letters, digits, _ and -'),
    sinkConfigSchema,
  )
  .default({})
  .describe('Forwarding sinks for alerts, by name.');

export type SinkConfig = z.output<typeof sinkConfigSchema>;
export type SinkFilter = SinkConfig['filter'];
