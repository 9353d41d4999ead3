/**
 * Config of the syslog source: one listener per source block, on UDP, TCP or TLS.
 */
import { z } from 'zod';
import { listenSchema, tlsServerSchema } from '../../config/common.ts';

export const syslogSourceSchema = z
  .strictObject({
    type: z.literal('syslog'),
    mode: z
      .enum(['udp', 'tcp', 'tls'])
      .describe('Transport: udp (RFC 5426), tcp (RFC 6587) or tls (RFC 5425).'),
    listen: listenSchema.describe('host:port to listen on; port 0 picks a free port.'),
    max_message_bytes: z
      .number()
      .int()
      .min(480)
      .max(1_048_576)
      .default(65_536)
      .describe('Largest accepted message; longer ones become a counted syslog.parse_error event.'),
    max_connections: z.number().int().positive().default(512).describe('TCP/TLS: concurrent connections.'),
    idle_timeout_secs: z.number().positive().default(300).describe('TCP/TLS: close a silent connection.'),
    max_parse_error_events_per_sec: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(10)
      .describe(
        'TCP/TLS: framing errors (oversized or mis-counted frames) reported as syslog.parse_error events per second for this source; the rest are counted in the next event (fields.suppressed).',
      ),
    tls: tlsServerSchema.optional().describe('Required when mode is tls.'),
  })
  .refine((s) => s.mode !== 'tls' || s.tls !== undefined, {
    message: 'mode tls needs a tls block (cert_file, key_file)',
    path: ['tls'],
  });

export type SyslogSourceConfig = z.output<typeof syslogSourceSchema>;
