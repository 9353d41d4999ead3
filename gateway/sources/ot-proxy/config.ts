/**
 * Config of the OT inline proxy: a transparent TCP relay for the TCP OT protocols besides Modbus
 * (DNP3/TCP, S7comm on ISO-on-TCP, EtherNet/IP explicit messaging, OPC UA binary). Each entry of
 * `proxies` listens where the masters, HMIs or clients now connect and relays to the device at
 * `upstream`, byte for byte both ways (monitor mode: nothing is changed or blocked), decoding each
 * direction with the passive capture's decoders. The limits bound what one connection may hold.
 */
import { z } from 'zod';
import { listenSchema } from '../../config/common.ts';

const endpointSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');

export const OT_PROXY_PROTOCOLS = ['dnp3', 's7comm', 'enip', 'opcua'] as const;

export const otProxyRouteSchema = z.strictObject({
  protocol: z
    .enum(OT_PROXY_PROTOCOLS)
    .describe('What the device speaks: dnp3 (TCP 20000), s7comm (102), enip (44818) or opcua (4840).'),
  listen: listenSchema.describe('host:port the masters connect to instead of the device; port 0 picks one.'),
  upstream: endpointSchema.describe('host:port of the device (outstation, PLC, adapter, server).'),
  device_name: z
    .string()
    .max(128)
    .optional()
    .describe('A name for the device in events (device.name) until the device names itself.'),
});

export const otProxySourceSchema = z.strictObject({
  type: z.literal('ot_proxy'),
  proxies: z.array(otProxyRouteSchema).min(1).max(64).describe('One listener per device behind the proxy.'),
  max_connections: z
    .number()
    .int()
    .positive()
    .default(64)
    .describe('Concurrent client connections per listener; more are refused (and counted).'),
  connect_timeout_secs: z.number().positive().default(5).describe('Time allowed to reach the device.'),
  idle_timeout_secs: z
    .number()
    .positive()
    .default(600)
    .describe('Close both sides of a connection silent this long in both directions.'),
  max_buffered_bytes: z
    .number()
    .int()
    .min(1024)
    .default(65_536)
    .describe(
      'Bytes waiting to be written to one side, per connection, above which the proxy stops reading the other side until they drain.',
    ),
});

export type OtProxySourceConfig = z.output<typeof otProxySourceSchema>;
export type OtProxyRoute = z.output<typeof otProxyRouteSchema>;
export type OtProxyProtocol = (typeof OT_PROXY_PROTOCOLS)[number];
