/**
 * Config of the CoAP source: a CoAP server (RFC 7252, UDP) that devices POST/PUT readings and logs
 * to, its resources and allowed methods, the addresses devices are expected from, the amplification
 * guard (RFC 7252 §11.3 with the Echo option of RFC 9175 §2.4), and resources on devices to observe
 * (RFC 7641) for telemetry.
 */
import { z } from 'zod';
import { listenSchema } from '../../config/common.ts';
import { telemetryRulesSchema } from '../telemetry/config.ts';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'PATCH', 'iPATCH'] as const;

export const coapResourceSchema = z.strictObject({
  path: z
    .string()
    .regex(/^\/[^?#]*(\/#)?$/, 'a path starting with /, optionally ending in /#')
    .max(255)
    .describe('Resource path, e.g. /readings; a trailing /# also takes every path below it.'),
  methods: z
    .array(z.enum(METHODS))
    .min(1)
    .default(['POST', 'PUT'])
    .describe('Methods allowed; others get 4.05.'),
  title: z.string().max(255).optional().describe('Shown in /.well-known/core (RFC 6690 `title`).'),
});

export const coapObserveSchema = z.strictObject({
  endpoint: z
    .url({ protocol: /^coap$/ })
    .describe('Resource on a device, coap://host:port/path, observed with GET + Observe.'),
  retry_secs: z
    .number()
    .positive()
    .max(3600)
    .default(30)
    .describe('Re-register after the observation ends or fails.'),
});

export const coapSourceSchema = z.strictObject({
  type: z.literal('coap'),
  listen: listenSchema.describe('UDP host:port (5683 is usual; [::]:5683 for IPv6); port 0 picks one.'),
  resources: z.array(coapResourceSchema).max(256).default([]).describe('Resources devices may use.'),
  discovery: z
    .boolean()
    .default(true)
    .describe('Answer GET /.well-known/core (RFC 6690); every query is an event.'),
  known_sources: z
    .array(z.string().max(64))
    .max(4096)
    .optional()
    .describe(
      'Addresses or CIDR blocks devices send from; requests from elsewhere raise coap.unknown_source.',
    ),
  max_message_bytes: z
    .number()
    .int()
    .min(64)
    .max(65_507)
    .default(1152)
    .describe('Larger datagrams are refused as malformed (RFC 7252 §4.6 suggests 1152).'),
  amplification_factor: z
    .number()
    .min(1)
    .max(100)
    .default(3)
    .describe(
      'A response larger than this many times the request, to an unverified source, is an amplification risk (RFC 9175 §2.4 uses 3).',
    ),
  echo: z
    .boolean()
    .default(true)
    .describe(
      'Answer such requests with 4.01 and an Echo option instead, and serve the repeat that returns it (RFC 9175 §2.4).',
    ),
  echo_verified_secs: z
    .number()
    .positive()
    .max(86_400)
    .default(300)
    .describe('How long a source that returned an Echo stays verified.'),
  telemetry: telemetryRulesSchema.describe(
    'Paths (without the leading /, e.g. readings/#) whose payloads become telemetry.',
  ),
  observe: z
    .array(coapObserveSchema)
    .max(256)
    .default([])
    .describe('Device resources to observe for telemetry.'),
  unknown_source_interval_secs: z
    .number()
    .positive()
    .default(60)
    .describe(
      'At most one coap.unknown_source event per address in this interval (the requests are still events).',
    ),
});

export type CoapSourceConfig = z.output<typeof coapSourceSchema>;
export type CoapResource = z.output<typeof coapResourceSchema>;
