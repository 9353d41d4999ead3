/**
 * The union of every source's config, discriminated by `type:`. A new protocol adds its
 * schema here and its factory in index.ts; nothing else in the gateway changes.
 */
import { z } from 'zod';
import { captureSourceSchema } from './capture/config.ts';
import { modbusPollerSourceSchema } from './modbus-poller/config.ts';
import { modbusProxySourceSchema } from './modbus-proxy/config.ts';
import { coapSourceSchema } from './coap/config.ts';
import { fileSourceSchema } from './file/config.ts';
import { mqttBrokerSourceSchema } from './mqtt-broker/config.ts';
import { mqttClientSourceSchema } from './mqtt-client/config.ts';
import { relpSourceSchema } from './relp/config.ts';
import { otProxySourceSchema } from './ot-proxy/config.ts';
import { syslogSourceSchema } from './syslog/config.ts';

export const sourceSchema = z.discriminatedUnion('type', [
  syslogSourceSchema,
  modbusProxySourceSchema,
  modbusPollerSourceSchema,
  captureSourceSchema,
  mqttBrokerSourceSchema,
  mqttClientSourceSchema,
  coapSourceSchema,
  otProxySourceSchema,
  fileSourceSchema,
  relpSourceSchema,
]);

export type SourceConfig = z.output<typeof sourceSchema>;
