/**
 * Config of the RELP source: rsyslog's reliable protocol (omrelp → the gateway), plain TCP or TLS.
 * Every frame is acknowledged only once its event is durable in the queue.
 */
import { z } from 'zod';
import { listenSchema, tlsServerSchema } from '../../config/common.ts';

export const relpSourceSchema = z.strictObject({
  type: z.literal('relp'),
  listen: listenSchema.describe('host:port to listen on (2514 is usual for RELP); port 0 picks a free port.'),
  max_message_bytes: z
    .number()
    .int()
    .min(480)
    .max(1_048_576)
    .default(65_536)
    .describe(
      'Largest syslog message kept per RELP frame; the rest of a longer one is skipped as it streams by, and the event is tagged truncated (imrelp oversizeMode=truncate).',
    ),
  max_connections: z.number().int().positive().default(128).describe('Concurrent RELP sessions.'),
  idle_timeout_secs: z.number().positive().default(300).describe('Close a session silent this long.'),
  max_window: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(1024)
    .describe(
      'Transactions of one session received and not yet acknowledged before the gateway stops reading it (the sender waits on its own window; omrelp windowSize is 128 unless set).',
    ),
  max_window_bytes: z
    .number()
    .int()
    .min(65_536)
    .max(268_435_456)
    .default(4_194_304)
    .describe(
      'Bytes of syslog data of one session received and not yet acknowledged before the gateway stops reading it (with max_connections, what bounds memory).',
    ),
  dedupe_window: z
    .number()
    .int()
    .min(0)
    .max(8192)
    .default(512)
    .describe(
      'Retransmissions dropped after a crash: the first N frames of a new session from an address are compared with the last N committed from it (set it to at least omrelp windowSize; 0 turns it off).',
    ),
  dedupe_peers: z
    .number()
    .int()
    .min(1)
    .max(65_536)
    .default(256)
    .describe(
      'Sender addresses whose last dedupe_window digests are kept; beyond it the one heard from least recently is forgotten (bounds memory and stored state against senders from ever new addresses).',
    ),
  max_error_events_per_sec: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(10)
    .describe('relp.protocol_error events per second for this source; the rest are only counted.'),
  tls: tlsServerSchema.optional().describe('Serve RELP over TLS (omrelp tls="on").'),
});

export type RelpSourceConfig = z.output<typeof relpSourceSchema>;
