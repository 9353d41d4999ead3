/**
 * Config of the Modbus poller: the gateway is the master and reads a register map from one
 * device, over Modbus/TCP (`endpoint`) or RTU on a serial port (`serial`), every
 * `poll_interval_ms`. Each point names a table, an address, a data type with its byte and word
 * order, a scale and offset to engineering units, an optional unit, an optional set-point flag
 * (a change is reported) and an optional min/max range (leaving it is reported).
 */
import { z } from 'zod';

const endpointSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');

export const POINT_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'bool', 'coil'] as const;
export const POINT_TABLES = ['holding', 'input', 'coil', 'discrete_input'] as const;

export type PointType = (typeof POINT_TYPES)[number];
export type PointTable = (typeof POINT_TABLES)[number];

export const pointSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (start with a letter)')
      .describe('Name of the value in events (fields.readings.<name>).'),
    address: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .describe('First register or bit address, 0-based as on the wire (PDU addressing).'),
    type: z
      .enum(POINT_TYPES)
      .default('uint16')
      .describe(
        'int16/uint16 (one register), int32/uint32/float32 (two), bool (a bit: a coil or discrete input, or a register bit), coil (a coil).',
      ),
    table: z
      .enum(POINT_TABLES)
      .optional()
      .describe(
        'holding (FC 3), input (FC 4), coil (FC 1), discrete_input (FC 2). Default: coil for type coil, else holding.',
      ),
    bit: z
      .number()
      .int()
      .min(0)
      .max(15)
      .optional()
      .describe('type bool in a register table: which bit (0 = least significant); absent: value != 0.'),
    byte_order: z
      .enum(['big', 'little'])
      .default('big')
      .describe('Byte order inside each register; Modbus is big-endian (Application Protocol §4.2).'),
    word_order: z
      .enum(['big', 'little'])
      .default('big')
      .describe('32-bit types: big = high word at the lower address (ABCD), little = low word first (CDAB).'),
    scale: z.number().finite().default(1).describe('Engineering value = raw × scale + offset.'),
    offset: z.number().finite().default(0).describe('Added after scaling.'),
    unit: z.string().max(32).optional().describe('Engineering unit, e.g. degC, bar, rpm.'),
    setpoint: z
      .boolean()
      .default(false)
      .describe('A set-point: any change between polls is a security event (modbus.setpoint_change).'),
    min: z.number().finite().optional().describe('Lowest normal value (engineering units), inclusive.'),
    max: z.number().finite().optional().describe('Highest normal value (engineering units), inclusive.'),
  })
  .refine((p) => p.type !== 'coil' || p.table === undefined || p.table === 'coil', {
    message: 'type coil reads the coil table',
    path: ['table'],
  })
  .refine(
    (p) => (p.table !== 'coil' && p.table !== 'discrete_input') || p.type === 'bool' || p.type === 'coil',
    { message: 'coil and discrete_input tables hold bits: use type bool or coil', path: ['type'] },
  )
  .refine((p) => p.min === undefined || p.max === undefined || p.min <= p.max, {
    message: 'min must not be above max',
    path: ['max'],
  });

export const serialSchema = z.strictObject({
  path: z.string().min(1).describe('Serial device, e.g. /dev/ttyUSB0 or /dev/ttyAMA0.'),
  baud_rate: z.number().int().positive().default(9600).describe('Bits per second.'),
  data_bits: z
    .union([z.literal(7), z.literal(8)])
    .default(8)
    .describe('Data bits per character.'),
  parity: z
    .enum(['none', 'even', 'odd'])
    .default('even')
    .describe('Parity; Modbus over Serial Line §2.5.1 makes even the default.'),
  stop_bits: z
    .union([z.literal(1), z.literal(2)])
    .default(1)
    .describe('Stop bits.'),
});

export const modbusPollerSourceSchema = z
  .strictObject({
    type: z.literal('modbus_poller'),
    transport: z.enum(['tcp', 'rtu']).default('tcp').describe('tcp (Modbus/TCP) or rtu (serial line).'),
    endpoint: endpointSchema.optional().describe('transport tcp: host:port of the device.'),
    serial: serialSchema.optional().describe('transport rtu: the serial port.'),
    unit_id: z
      .number()
      .int()
      .min(0)
      .max(247)
      .default(1)
      .describe('Unit id (slave address) polled; 1–247 on a serial line (§2.2).'),
    poll_interval_ms: z.number().int().min(50).max(3_600_000).default(5000).describe('Time between polls.'),
    timeout_ms: z.number().int().min(10).max(60_000).default(1000).describe('Wait for each response.'),
    unreachable_after_failures: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('Consecutive failed polls before modbus.device_unreachable is raised.'),
    max_gap: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(8)
      .describe('Unused addresses a single read may span to join two points (fewer requests).'),
    device_name: z.string().max(128).optional().describe('A name for the device in events (device.name).'),
    points: z.array(pointSchema).min(1).max(1000).describe('The register map.'),
  })
  .refine((s) => (s.transport === 'tcp' ? s.endpoint !== undefined : s.serial !== undefined), {
    message: 'transport tcp needs endpoint; transport rtu needs a serial block',
    path: ['transport'],
  })
  .refine((s) => new Set(s.points.map((p) => p.name)).size === s.points.length, {
    message: 'point names must be unique',
    path: ['points'],
  });

export type ModbusPollerSourceConfig = z.output<typeof modbusPollerSourceSchema>;
export type PointConfig = z.output<typeof pointSchema>;
