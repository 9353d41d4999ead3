/**
 * MQTT → `Event`: the `mqtt.*` events of one connection, carrying the client id, user name,
 * protocol version, transport and both addresses. One builder for the embedded broker
 * (gateway/sources/mqtt-broker) and for MQTT seen in a capture (gateway/sources/capture), so both
 * give the same actions and fields. Pure: the time is passed in. Actions and their fields are
 * documented in protocols/event/SPEC.md.
 */
import { compact } from '../event/compact.ts';
import { isoString } from '../event/iso-string.ts';
import type { EventKind, PendingEvent } from '../event/schema.ts';

/** How a client proved who it is. */
export interface MqttIdentity {
  username?: string;
  anonymous: boolean;
  method: 'password' | 'client_cert' | 'anonymous';
}

/**
 * What is known of one connection: its addresses, what its CONNECT said, who it proved to be and
 * how it ended. The broker's connection state extends it (mqtt-broker/events.ts `ConnInfo`).
 */
export interface MqttConnection {
  ip: string;
  port: number;
  localIp: string;
  localPort: number;
  transport: 'tcp' | 'tls';
  certCn?: string;
  clientId?: string;
  username?: string;
  protocolLevel?: number;
  keepalive?: number;
  cleanSession?: boolean;
  will?: { topic: string; qos: number; retain: boolean; payload_bytes: number };
  identity?: MqttIdentity;
  connectedAt?: Date;
  /** Why the connection ended, when known before the close (keepalive, takeover, protocol error...). */
  closeReason?: string;
}

/** The CONNECT protocol level → the MQTT version it names (MQTT 3.1.1 §3.1.2.2, MQTT 5.0 §3.1.2.2). */
export const PROTOCOL_VERSIONS: Record<number, string> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };

export interface MqttEventSpec {
  action: string;
  kind: EventKind;
  severity: number;
  message: string;
  fields?: Record<string, unknown>;
  tags?: string[];
}

/** A key (source address, client id, user name) whose count crossed a threshold in its window. */
export interface RateCrossing {
  counter: string;
  keyType: string;
  key: string;
  count: number;
  threshold: number;
  windowSecs: number;
  distinctClientIds?: number;
}

/**
 * `mqtt.rate_exceeded`: a key (source address, client id, user name) crossed a counter's threshold
 * in its window. One shape for the broker and for passive capture.
 */
export function rateExceededSpec(c: RateCrossing, blockedSecs?: number): MqttEventSpec {
  return {
    action: 'mqtt.rate_exceeded',
    kind: 'security',
    severity: 4,
    message: `${c.count} ${c.counter.replace('_', ' ')} from ${c.keyType} ${c.key} within ${c.windowSecs} s (threshold ${c.threshold})`,
    fields: {
      counter: c.counter,
      key_type: c.keyType,
      key: c.key,
      count: c.count,
      threshold: c.threshold,
      window_secs: c.windowSecs,
      distinct_client_ids: c.distinctClientIds,
      blocked_secs: blockedSecs,
    },
    tags: ['rate'],
  };
}

/**
 * `mqtt.rate_exceeded` for an address that has just been blocked (the broker's blocker.ts): the
 * crossing of `auth_failures` per `src_ip`, with how long the block lasts, its level and its end.
 */
export function blockedSpec(
  c: RateCrossing,
  block: { secs: number; level: number; until: Date },
): MqttEventSpec {
  const spec = rateExceededSpec(c, block.secs);
  return {
    ...spec,
    message: `${spec.message}: address blocked for ${block.secs} s (block ${block.level})`,
    fields: { ...spec.fields, block_level: block.level, blocked_until: block.until.toISOString() },
    tags: ['rate', 'blocked'],
  };
}

export function mqttEvent(
  info: MqttConnection,
  spec: MqttEventSpec,
  now: Date,
  listener: string,
): PendingEvent {
  const received = isoString(now);
  const clientId = info.clientId;
  return {
    ts: received,
    received,
    source: 'mqtt',
    kind: spec.kind,
    action: spec.action,
    severity: spec.severity,
    message: spec.message,
    ...(clientId !== undefined && clientId !== ''
      ? {
          device: compact({
            id: `mqtt:${clientId}`.slice(0, 256),
            protocol_id: clientId.slice(0, 256),
            name: info.identity?.username,
          }) as { id: string },
        }
      : {}),
    src: { ip: info.ip, port: info.port },
    dst: { ip: info.localIp, port: info.localPort },
    fields: compact({
      client_id: clientId,
      username: info.username,
      protocol_version:
        info.protocolLevel !== undefined
          ? (PROTOCOL_VERSIONS[info.protocolLevel] ?? String(info.protocolLevel))
          : undefined,
      transport: info.transport,
      listener,
      ...spec.fields,
    }),
    tags: spec.tags ?? [],
  };
}
