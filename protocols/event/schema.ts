/**
 * The one event type. Every source (syslog, MQTT, CoAP, Modbus, the gateway itself) produces an
 * `Event`; nothing downstream of a source sees a protocol-specific shape. The zod schema below is
 * the only definition: the TypeScript type is inferred from it, so the runtime check and the
 * compile-time type cannot drift. Field names follow the Elastic Common Schema where one exists;
 * see protocols/event/SPEC.md for the meaning of each field and the versioning rule.
 */
import { z } from 'zod';

/** Bumped on any change that an older reader could misread (new optional fields do not bump it). */
export const EVENT_SCHEMA_VERSION = 1;

/** Upper bounds on what a single event may carry, so one bad device cannot exhaust memory. */
export const EVENT_LIMITS = {
  MESSAGE_BYTES: 65_536,
  ID_CHARS: 256,
  TAGS: 64,
  TAG_CHARS: 128,
} as const;

export const EVENT_SOURCES = [
  'syslog',
  'mqtt',
  'coap',
  'modbus',
  'bacnet',
  'enip',
  'dnp3',
  's7comm',
  'opcua',
  'file',
  'http',
  'windows',
  'gateway',
  'central',
] as const;
export const EVENT_KINDS = ['telemetry', 'security', 'audit', 'health', 'alert'] as const;

const gatewayId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore only');

const isoTime = z.iso.datetime({ offset: true });

const endpoint = z.strictObject({
  ip: z.string().max(64).optional(),
  port: z.number().int().min(0).max(65_535).optional(),
});

export const deviceSchema = z.strictObject({
  /** Stable identity of the device inside one gateway's view, e.g. `syslog:plc-7` or `modbus:10.0.0.5/1`. */
  id: z.string().min(1).max(EVENT_LIMITS.ID_CHARS),
  /** The identity the protocol gives the device: MQTT client id, Modbus unit id, CoAP endpoint, syslog host. */
  protocol_id: z.string().max(EVENT_LIMITS.ID_CHARS).optional(),
  name: z.string().max(EVENT_LIMITS.ID_CHARS).optional(),
});

export const threatSchema = z.strictObject({
  rule_id: z.string().max(EVENT_LIMITS.ID_CHARS),
  rule_name: z.string().max(1024).optional(),
  techniques: z.array(z.string().max(32)).max(32).default([]),
});

export const eventSchema = z.strictObject({
  v: z.literal(EVENT_SCHEMA_VERSION),
  /** `<gateway>:<seq>`: unique across the deployment. */
  id: z.string().min(3).max(EVENT_LIMITS.ID_CHARS),
  /** The observing gateway (ECS observer.id). */
  gateway: gatewayId,
  /** Per-gateway, strictly increasing, durable across restarts. */
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** When it happened, from the device when it says so (ECS @timestamp). */
  ts: isoTime,
  /** When the gateway received it, by the gateway's clock (ECS event.created). */
  received: isoTime,
  /**
   * Whose clock `ts` is: the device's own (it said when), or the gateway's (it did not). Central
   * corrects gateway-clock times by `clock_offset_ms`; device times are kept as the device said.
   */
  time_source: z.enum(['device', 'gateway']).optional(),
  /** Gateway clock minus central clock in ms, as last measured on the link; absent before the first heartbeat. */
  clock_offset_ms: z.number().int().optional(),
  source: z.enum(EVENT_SOURCES),
  kind: z.enum(EVENT_KINDS),
  /** Dotted, protocol-prefixed verb, e.g. `syslog.message`, `modbus.write_single_register`. */
  action: z.string().min(1).max(128),
  /** 0 (emergency) to 7 (debug), the syslog scale (RFC 5424 §6.2.1). */
  severity: z.number().int().min(0).max(7),
  message: z.string().max(EVENT_LIMITS.MESSAGE_BYTES),
  /** Host name the device reports for itself (ECS host.name). */
  host: z.string().max(255).optional(),
  device: deviceSchema.optional(),
  /** Network peers (ECS source.* and destination.*); named src/dst because `source` is the protocol. */
  src: endpoint.optional(),
  dst: endpoint.optional(),
  /** Protocol-specific detail, documented per action in SPEC.md. */
  fields: z.record(z.string(), z.unknown()).default({}),
  tags: z.array(z.string().max(EVENT_LIMITS.TAG_CHARS)).max(EVENT_LIMITS.TAGS).default([]),
  threat: threatSchema.optional(),
});

export type Event = z.output<typeof eventSchema>;
export type EventInput = z.input<typeof eventSchema>;
export type EventSource = (typeof EVENT_SOURCES)[number];
export type EventKind = (typeof EVENT_KINDS)[number];
export type Device = z.output<typeof deviceSchema>;

/**
 * What a source hands to the pipeline: an event before the gateway has given it an identity.
 * The queue assigns `gateway`, `seq` and `id` when it makes the event durable.
 */
export type PendingEvent = Omit<Event, 'v' | 'id' | 'gateway' | 'seq'>;

export type EventParseResult = { ok: true; event: Event } | { ok: false; error: string };

/** Validates untrusted input (from the link, from disk) into an `Event`; never throws. */
export function parseEvent(input: unknown): EventParseResult {
  const result = eventSchema.safeParse(input);
  if (result.success) return { ok: true, event: result.data };
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return { ok: false, error: `${path}: ${issue?.message ?? 'invalid event'}` };
}

/** `<gateway>:<seq>`, the event id contract. */
export function eventId(gateway: string, seq: number): string {
  return `${gateway}:${seq}`;
}

export { gatewayId as gatewayIdSchema };
