/**
 * Config of the MQTT client collector: for sites that already run a broker, the gateway
 * subscribes to it (topics and `$SYS` from config) instead of being the broker. The password comes
 * from a file or the environment, never from this file.
 */
import { z } from 'zod';
import { telemetryRulesSchema } from '../telemetry/config.ts';

export const mqttClientSourceSchema = z.strictObject({
  type: z.literal('mqtt_client'),
  endpoint: z
    .url({ protocol: /^mqtts?$/ })
    .describe('The plant broker, mqtt://host:1883 or mqtts://host:8883.'),
  client_id: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe('Client id (default siem-<gateway source name>).'),
  username: z.string().min(1).max(256).optional().describe('User name at the plant broker.'),
  password_file: z.string().optional().describe('File holding the password (keep it 0600).'),
  password_env: z.string().optional().describe('Environment variable holding the password.'),
  topics: z.array(z.string().min(1).max(1024)).min(1).max(256).describe('Topic filters to subscribe to.'),
  sys_topics: z
    .boolean()
    .default(true)
    .describe('Also subscribe to $SYS/# and report broker status (clients, load, version).'),
  sys_interval_secs: z
    .number()
    .positive()
    .default(60)
    .describe('At most one broker status event per $SYS topic in this interval.'),
  qos: z
    .union([z.literal(0), z.literal(1)])
    .default(1)
    .describe(
      'Subscription QoS; with 1 the broker’s message is acknowledged only once its event is durable.',
    ),
  telemetry: telemetryRulesSchema.describe(
    'Topics whose messages become telemetry events; default: every subscribed message, one event each.',
  ),
  reconnect_secs: z.number().positive().max(3600).default(5).describe('Delay before reconnecting.'),
  protocol_version: z
    .union([z.literal(3), z.literal(4), z.literal(5)])
    .default(4)
    .describe(
      'MQTT protocol level: 3 (3.1), 4 (3.1.1) or 5 (5.0); with 5, user properties, message expiry and content type are kept in the event.',
    ),
  shared_group: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^/+#]+$/, 'a share name has no /, + or #')
    .optional()
    .describe(
      'Subscribe to the topics as shared subscriptions $share/<group>/<filter> (MQTT 5 §4.8.2), so several gateways split one stream; $SYS is never shared.',
    ),
  tls: z
    .strictObject({
      ca_file: z.string().optional().describe('CA bundle to verify the broker (default: system CAs).'),
      cert_file: z.string().optional().describe('Client certificate, when the broker requires one.'),
      key_file: z.string().optional().describe('Client key.'),
    })
    .optional()
    .describe('TLS options for mqtts://.'),
});

export type MqttClientSourceConfig = z.output<typeof mqttClientSourceSchema>;
