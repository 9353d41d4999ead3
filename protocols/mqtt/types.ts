/**
 * The shapes of decoded MQTT control packets (MQTT 3.1, 3.1.1 and 5.0) and the typed errors of
 * the codec. The decoder is for watching traffic (captures, malformed-packet detection at the
 * broker); it keeps what a security analyst or a detection rule needs, not every v5 nicety.
 */

/** Control packet types by number, MQTT 3.1.1 §2.2.1 Table 2.1 and MQTT 5.0 §2.1.2 (AUTH = 15). */
export const MQTT_PACKET_TYPES = [
  'reserved',
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
] as const;

export type MqttPacketTypeName = (typeof MQTT_PACKET_TYPES)[number];

/** Protocol level byte of CONNECT: 3 = MQTT 3.1 ("MQIsdp"), 4 = 3.1.1, 5 = 5.0. */
export type MqttProtocolLevel = 3 | 4 | 5;

export type MqttErrorCode =
  /** The remaining-length varint has more than four bytes ([MQTT-1.5.5-1], 3.1.1 §2.2.3). */
  | 'invalid_remaining_length'
  /** The packet declares more bytes than the configured maximum. */
  | 'too_large'
  /** Type 0, or 15 before MQTT 5 (3.1.1 §2.2.1: reserved, forbidden). */
  | 'reserved_type'
  /** Fixed-header flags that the table fixes ([MQTT-2.2.2-1]). */
  | 'invalid_flags'
  /** PUBLISH with both QoS bits set ([MQTT-3.3.1-4]) or a subscription asking QoS 3 ([MQTT-3.8.3-4]). */
  | 'invalid_qos'
  /** The bytes end before a field does, or fields end before the packet does. */
  | 'length_mismatch'
  /** CONNECT protocol name/level that is not MQTT 3.1, 3.1.1 or 5.0 ([MQTT-3.1.2-1]). */
  | 'invalid_protocol'
  /** CONNECT reserved flag set ([MQTT-3.1.2-3]) or inconsistent will/password flags. */
  | 'invalid_connect_flags'
  /** A string that is not well-formed UTF-8 or contains U+0000 ([MQTT-1.5.3-1], [MQTT-1.5.3-2]). */
  | 'invalid_utf8'
  /** A topic name with wildcards ([MQTT-3.3.2-2]) or an empty topic filter ([MQTT-4.7.3-1]). */
  | 'invalid_topic'
  /** SUBSCRIBE/UNSUBSCRIBE without a single topic ([MQTT-3.8.3-3], [MQTT-3.10.3-2]). */
  | 'empty_payload'
  /** MQTT 5 property block: unknown identifier, or a length past the packet (MQTT 5.0 §2.2.2). */
  | 'invalid_property'
  /** Packet identifier 0 where one is required ([MQTT-2.3.1-1]). */
  | 'invalid_packet_id'
  /** A packet the other side never sends, e.g. CONNACK from a client (checked by the session tracker). */
  | 'unexpected_packet';

export interface MqttError {
  code: MqttErrorCode;
  message: string;
  /** Packet type from the first byte, when it could be read. */
  type?: MqttPacketTypeName;
  /** For `too_large`: the bytes the packet declared. */
  declaredBytes?: number;
}

export type MqttProperties = Record<string, number | string | boolean | Uint8Array | Array<[string, string]>>;

export interface MqttWill {
  topic: string;
  payload: Uint8Array;
  qos: number;
  retain: boolean;
  properties?: MqttProperties;
}

interface Base {
  /** Bytes of the whole packet: fixed header plus remaining length. */
  length: number;
  remainingLength: number;
  dup: boolean;
  qos: number;
  retain: boolean;
}

export type MqttPacket =
  | (Base & {
      type: 'connect';
      protocolName: string;
      protocolLevel: MqttProtocolLevel;
      flags: {
        username: boolean;
        password: boolean;
        willRetain: boolean;
        willQos: number;
        will: boolean;
        cleanSession: boolean;
      };
      keepalive: number;
      clientId: string;
      will?: MqttWill;
      username?: string;
      password?: Uint8Array;
      properties?: MqttProperties;
    })
  | (Base & { type: 'connack'; sessionPresent: boolean; returnCode: number; properties?: MqttProperties })
  | (Base & {
      type: 'publish';
      topic: string;
      messageId?: number;
      payload: Uint8Array;
      properties?: MqttProperties;
    })
  | (Base & {
      type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';
      messageId: number;
      reasonCode?: number;
      properties?: MqttProperties;
    })
  | (Base & {
      type: 'subscribe';
      messageId: number;
      subscriptions: Array<{ topic: string; qos: number; noLocal?: boolean; retainAsPublished?: boolean }>;
      properties?: MqttProperties;
    })
  | (Base & { type: 'suback'; messageId: number; granted: number[]; properties?: MqttProperties })
  | (Base & { type: 'unsubscribe'; messageId: number; topics: string[]; properties?: MqttProperties })
  | (Base & { type: 'unsuback'; messageId: number; reasonCodes?: number[]; properties?: MqttProperties })
  | (Base & { type: 'pingreq' | 'pingresp' })
  | (Base & { type: 'disconnect' | 'auth'; reasonCode?: number; properties?: MqttProperties });

export type MqttDecodeResult = { ok: true; packet: MqttPacket } | { ok: false; error: MqttError };

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 Table 3.1. */
export const CONNACK_RETURN_CODES: Record<number, string> = {
  0: 'accepted',
  1: 'unacceptable_protocol_version',
  2: 'identifier_rejected',
  3: 'server_unavailable',
  4: 'bad_username_or_password',
  5: 'not_authorized',
};

/** The MQTT 5 reason codes a CONNACK refusal can carry (MQTT 5.0 §3.2.2.2), for naming. */
export const CONNACK_V5_REASON_CODES: Record<number, string> = {
  0: 'success',
  128: 'unspecified_error',
  129: 'malformed_packet',
  130: 'protocol_error',
  132: 'unsupported_protocol_version',
  133: 'client_identifier_not_valid',
  134: 'bad_username_or_password',
  135: 'not_authorized',
  136: 'server_unavailable',
  137: 'server_busy',
  138: 'banned',
  140: 'bad_authentication_method',
  149: 'packet_too_large',
  151: 'quota_exceeded',
};
