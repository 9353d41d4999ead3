/**
 * The state of one MQTT connection followed in a capture, shared by the code that cuts its bytes
 * into packets (mqtt.ts) and the code that turns its packets into events (mqtt-events.ts,
 * mqtt-traffic-events.ts): the two directions' reassembly buffers, who the client is, and the
 * requests still waiting for their answer.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { MqttPacket } from '../../../protocols/mqtt/index.ts';
import type { MqttConnection, MqttEventSpec } from '../../../protocols/mqtt/to-event.ts';
import type { FrameMeta } from './frame-meta.ts';

export interface MqttRates {
  windowSecs: number;
  maxConnections: number;
  maxConnects: number;
  maxAuthFailures: number;
}

interface Direction {
  buf: Uint8Array;
  /** Bytes of an oversized packet still to skip. */
  skip: number;
  /** Framing lost for good (until a hole resets it). */
  dead: boolean;
  /** Not known to start at a packet boundary: errors mean "not in step yet", not "malformed". */
  resync: boolean;
}

export interface MqttConn {
  key: string;
  info: MqttConnection;
  /** [client → broker, broker → client]. */
  dirs: [Direction, Direction];
  connect?: { frame: number; ts: number };
  subs: Map<number, { frame: number; ts: number; topics: Array<{ topic: string; qos: number }> }>;
  closed: boolean;
  closedAt?: number;
}

export type Packet<T extends MqttPacket['type']> = Extract<MqttPacket, { type: T }>;

/** Builds one event of `conn` completed by the frame `m`, with `more` added to its fields. */
export type MqttEventOf = (
  conn: MqttConn,
  spec: MqttEventSpec,
  m: FrameMeta,
  more?: Record<string, unknown>,
) => PendingEvent;
