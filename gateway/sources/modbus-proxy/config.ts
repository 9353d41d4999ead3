/**
 * Config of the Modbus/TCP inline proxy: HMIs and engineering stations connect to `listen`
 * instead of the PLC at `endpoint`; every request and response is decoded and forwarded
 * unchanged. The optional policy names the masters allowed to talk to this PLC and, for each,
 * the function codes and address ranges it may use. `monitor` (default) only reports what the
 * policy denies; `enforce` answers a denied request with a Modbus exception and never forwards it,
 * and forwards nothing it could not decode (fail closed). Each connection is flow-controlled: the
 * proxy stops reading from the master while the pipeline, the PLC or the master is behind.
 */
import { z } from 'zod';
import { listenSchema } from '../../config/common.ts';

const endpointSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');

const rangeSchema = z
  .strictObject({
    start: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .describe('First address of the range (0-based, as on the wire).'),
    end: z.number().int().min(0).max(65_535).describe('Last address of the range, inclusive.'),
  })
  .refine((r) => r.end >= r.start, { message: 'end must not be below start', path: ['end'] });

export const masterPolicySchema = z.strictObject({
  address: z
    .string()
    .regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'expected an IP address or CIDR block')
    .describe('The master’s IP address, or a CIDR block (10.0.0.0/24).'),
  function_codes: z
    .array(z.number().int().min(1).max(127))
    .optional()
    .describe('Function codes this master may use; absent means all.'),
  address_ranges: z
    .array(rangeSchema)
    .optional()
    .describe('Register/coil address ranges this master may read or write; absent means all.'),
  write_address_ranges: z
    .array(rangeSchema)
    .optional()
    .describe('Narrower ranges for writes (FC 5, 6, 15, 16, 22, 23); absent means address_ranges.'),
});

export const modbusProxySourceSchema = z.strictObject({
  type: z.literal('modbus_proxy'),
  listen: listenSchema.describe('host:port the HMIs connect to; port 0 picks a free port.'),
  endpoint: endpointSchema.describe('host:port of the PLC (Modbus/TCP server) behind the proxy.'),
  mode: z
    .enum(['monitor', 'enforce'])
    .default('monitor')
    .describe(
      'monitor: report policy violations only; enforce: answer them with an exception, never forward.',
    ),
  unit_ids: z
    .array(z.number().int().min(0).max(255))
    .optional()
    .describe(
      'Unit ids known behind this endpoint; a request to another one is reported. Absent: not checked.',
    ),
  masters: z
    .array(masterPolicySchema)
    .optional()
    .describe('Allowed masters and what each may do. Absent: every master may do everything.'),
  max_connections: z.number().int().positive().default(64).describe('Concurrent HMI connections.'),
  connect_timeout_secs: z.number().positive().default(5).describe('Time allowed to reach the PLC.'),
  idle_timeout_secs: z.number().positive().default(600).describe('Close a connection silent this long.'),
  max_outstanding_requests: z
    .number()
    .int()
    .min(1)
    .max(256)
    .default(16)
    .describe(
      'Requests forwarded to the PLC and not yet answered, per connection; the proxy reads no more from the master until one is answered or times out.',
    ),
  response_timeout_secs: z
    .number()
    .positive()
    .default(5)
    .describe(
      'A request the PLC has not answered in this time stops counting against max_outstanding_requests (broadcasts and FC 8/4 get no answer).',
    ),
  max_buffered_bytes: z
    .number()
    .int()
    .min(1024)
    .default(65_536)
    .describe(
      'Bytes waiting to be written to the PLC or to the master, per connection, above which the proxy stops reading until they drain.',
    ),
  device_name: z.string().max(128).optional().describe('A name for the PLC in events (device.name).'),
});

export type ModbusProxySourceConfig = z.output<typeof modbusProxySourceSchema>;
export type MasterPolicy = z.output<typeof masterPolicySchema>;
