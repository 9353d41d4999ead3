/**
 * Config of the embedded MQTT broker (aedes) that devices connect to: plain and TLS listeners,
 * per-device credentials (scrypt password hashes or TLS client certificates), publish/subscribe
 * ACLs, packet size bound, telemetry topics and the rate thresholds of the brute-force and flood
 * detection. Nothing is open by default: no anonymous access, no topic allowed unless listed.
 */
import { z } from 'zod';
import { listenSchema, tlsServerSchema } from '../../config/common.ts';
import { isValidFilter } from '../../../protocols/mqtt/topic.ts';
import { telemetryRulesSchema } from '../telemetry/config.ts';
import { checkHash } from './password.ts';

const aclFilter = z
  .string()
  .min(1)
  .max(1024)
  .refine((f) => isValidFilter(f), 'not a valid MQTT topic filter')
  .describe('Topic filter; %u is the user name, %c the client id (Mosquitto-style patterns).');

const aclSchema = {
  publish: z.array(aclFilter).max(256).default([]).describe('Topics this identity may publish to.'),
  subscribe: z.array(aclFilter).max(256).default([]).describe('Filters this identity may subscribe to.'),
};

export const mqttUserSchema = z
  .strictObject({
    username: z.string().min(1).max(256).describe('MQTT user name in CONNECT.'),
    password_hash: z
      .string()
      .superRefine((v, ctx) => {
        const problem = checkHash(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe('scrypt$N$r$p$salt$hash; make one with gateway/sources/mqtt-broker/hash-password.ts.'),
    client_cert_cn: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('TLS client certificate common name that authenticates as this user without a password.'),
    ...aclSchema,
  })
  .refine((u) => u.password_hash !== undefined || u.client_cert_cn !== undefined, {
    message: 'a user needs password_hash or client_cert_cn',
  });

export const mqttBrokerSourceSchema = z
  .strictObject({
    type: z.literal('mqtt_broker'),
    listen: listenSchema
      .optional()
      .describe('Plain MQTT listener, host:port (1883 is usual); port 0 picks one.'),
    tls: tlsServerSchema
      .extend({ listen: listenSchema.describe('MQTT over TLS listener, host:port (8883 is usual).') })
      .optional()
      .describe('TLS listener; with ca_file, clients must present a certificate signed by it.'),
    allow_anonymous: z
      .boolean()
      .default(false)
      .describe('Accept CONNECT without credentials; such clients get the `anonymous` ACL.'),
    anonymous: z.strictObject(aclSchema).prefault({}).describe('ACL of anonymous clients.'),
    users: z.array(mqttUserSchema).max(10_000).default([]).describe('Devices and their ACLs.'),
    max_packet_bytes: z
      .number()
      .int()
      .min(64)
      .max(268_435_460)
      .default(262_144)
      .describe('Largest packet accepted; a larger one is an mqtt.oversized_packet event and a disconnect.'),
    max_connections: z
      .number()
      .int()
      .positive()
      .default(1024)
      .describe('Concurrent connections per listener.'),
    max_pending_publishes: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .default(1000)
      .describe(
        'Publishes accepted and not yet durable, across all clients; over it the broker stops reading its clients until half have been written (nothing dropped, no PUBACK early).',
      ),
    max_pending_bytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024)
      .describe('The same bound in topic and payload bytes (the gateway runs in a 64 MB heap).'),
    connect_timeout_secs: z
      .number()
      .positive()
      .max(300)
      .default(10)
      .describe('Close a connection that sends no CONNECT in time.'),
    max_keepalive_secs: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .default(0)
      .describe('Refuse CONNECTs asking a longer keep alive (0: no limit).'),
    telemetry: telemetryRulesSchema,
    rates: z
      .strictObject({
        window_secs: z.number().positive().max(86_400).default(60).describe('Counting window.'),
        max_connections: z
          .number()
          .int()
          .positive()
          .default(120)
          .describe('TCP connections per source address per window before mqtt.rate_exceeded.'),
        max_connects: z
          .number()
          .int()
          .positive()
          .default(60)
          .describe('CONNECTs per source address, client id or user name per window.'),
        max_auth_failures: z
          .number()
          .int()
          .positive()
          .default(5)
          .describe(
            'Refused CONNECTs (bad credentials, not authorised) per address, client id or user name.',
          ),
        block_secs: z
          .number()
          .min(0)
          .max(86_400)
          .default(60)
          .describe(
            'Refuse CONNECTs, without checking passwords, from an address with more than max_auth_failures refused CONNECTs in window_secs, for this long (0: detect only, never block).',
          ),
        max_block_secs: z
          .number()
          .positive()
          .max(604_800)
          .default(3600)
          .describe('Each further block of the same address lasts twice the previous one, up to this.'),
        block_reset_secs: z
          .number()
          .positive()
          .max(604_800)
          .default(86_400)
          .describe('An address with no block for this long starts again at block_secs.'),
      })
      .prefault({})
      .refine((r) => r.block_secs <= r.max_block_secs, {
        message: 'block_secs must not exceed max_block_secs',
        path: ['block_secs'],
      })
      .describe('Brute-force and flood detection thresholds, and the blocking of brute-forcing addresses.'),
  })
  .refine((s) => s.listen !== undefined || s.tls !== undefined, {
    message: 'an mqtt_broker needs listen, tls.listen or both',
    path: ['listen'],
  });

export type MqttBrokerSourceConfig = z.output<typeof mqttBrokerSourceSchema>;
export type MqttUser = z.output<typeof mqttUserSchema>;
