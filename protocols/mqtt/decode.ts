/**
 * Decodes one MQTT control packet (MQTT 3.1, 3.1.1 and 5.0) from its bytes, fixed header
 * included: the result or a typed error, never an exception. Used on captured streams
 * (`siem-gateway replay`, the capture tests) and by the broker to explain a packet it refused.
 * Only the CONNECT carries the protocol level; every other packet is read at the level the
 * caller says (`decodeMqttStream` tracks it across a connection).
 */
import { checkFirstByte, readFixedHeader, splitMqttFrames } from './framing.ts';
import { DecodeFailure, Reader } from './reader.ts';
import type {
  MqttDecodeResult,
  MqttError,
  MqttPacket,
  MqttPacketTypeName,
  MqttProtocolLevel,
} from './types.ts';

export interface MqttDecodeOptions {
  /** Level negotiated by the connection's CONNECT (3, 4 or 5); default 4 (MQTT 3.1.1). */
  protocolLevel?: number;
  maxPacketBytes?: number;
}

function fail(code: MqttError['code'], message: string, type?: MqttPacketTypeName): MqttDecodeResult {
  return { ok: false, error: type ? { code, message, type } : { code, message } };
}

function topicName(r: Reader, level: number): string {
  const topic = r.string('topic name');
  // [MQTT-3.3.2-2]: the topic name of a PUBLISH must not contain wildcard characters.
  if (topic.includes('#') || topic.includes('+')) {
    throw new DecodeFailure('invalid_topic', `PUBLISH topic "${topic}" contains a wildcard [MQTT-3.3.2-2]`);
  }
  // [MQTT-4.7.3-1]: at least one character, except an MQTT 5 topic alias (checked by the caller).
  if (topic === '' && level < 5)
    throw new DecodeFailure('invalid_topic', 'empty PUBLISH topic [MQTT-4.7.3-1]');
  return topic;
}

function topicFilter(r: Reader): string {
  const filter = r.string('topic filter');
  if (filter === '') throw new DecodeFailure('invalid_topic', 'empty topic filter [MQTT-4.7.3-1]');
  return filter;
}

function packetId(r: Reader): number {
  const id = r.u16('packet identifier');
  if (id === 0) throw new DecodeFailure('invalid_packet_id', 'packet identifier 0 [MQTT-2.3.1-1]');
  return id;
}

function decodeConnect(r: Reader): Omit<Extract<MqttPacket, { type: 'connect' }>, keyof Base> {
  const protocolName = r.string('protocol name');
  const level = r.u8('protocol level');
  const known =
    (protocolName === 'MQTT' && (level === 4 || level === 5)) || (protocolName === 'MQIsdp' && level === 3);
  if (!known) {
    throw new DecodeFailure('invalid_protocol', `protocol "${protocolName}" level ${level} [MQTT-3.1.2-1]`);
  }
  const f = r.u8('connect flags');
  if (f & 0x01) throw new DecodeFailure('invalid_connect_flags', 'reserved connect flag set [MQTT-3.1.2-3]');
  const flags = {
    username: (f & 0x80) !== 0,
    password: (f & 0x40) !== 0,
    willRetain: (f & 0x20) !== 0,
    willQos: (f >> 3) & 0x03,
    will: (f & 0x04) !== 0,
    cleanSession: (f & 0x02) !== 0,
  };
  if (flags.willQos === 3) throw new DecodeFailure('invalid_qos', 'will QoS 3 [MQTT-3.1.2-14]');
  if (!flags.will && (flags.willQos !== 0 || flags.willRetain)) {
    throw new DecodeFailure('invalid_connect_flags', 'will QoS/retain set without a will [MQTT-3.1.2-13]');
  }
  if (level < 5 && flags.password && !flags.username) {
    throw new DecodeFailure('invalid_connect_flags', 'password without user name [MQTT-3.1.2-22]');
  }
  const keepalive = r.u16('keep alive');
  const properties = level === 5 ? r.properties('CONNECT') : undefined;
  const clientId = r.string('client identifier');
  const out: Omit<Extract<MqttPacket, { type: 'connect' }>, keyof Base> = {
    type: 'connect',
    protocolName,
    protocolLevel: level as MqttProtocolLevel,
    flags,
    keepalive,
    clientId,
  };
  if (properties) out.properties = properties;
  if (flags.will) {
    const willProperties = level === 5 ? r.properties('will') : undefined;
    out.will = {
      topic: r.string('will topic'),
      payload: r.binary('will payload'),
      qos: flags.willQos,
      retain: flags.willRetain,
      ...(willProperties ? { properties: willProperties } : {}),
    };
  }
  if (flags.username) out.username = r.string('user name');
  if (flags.password) out.password = r.binary('password');
  return out;
}

type Base = { length: number; remainingLength: number; dup: boolean; qos: number; retain: boolean };
/** A packet without the fixed-header fields, kept as a union (a plain Omit would merge the members). */
type Body = MqttPacket extends infer P ? (P extends MqttPacket ? Omit<P, keyof Base> : never) : never;

function decodeBody(r: Reader, type: MqttPacketTypeName, qos: number, level: number): Body {
  const v5 = level === 5;
  switch (type) {
    case 'connect':
      return decodeConnect(r);
    case 'connack': {
      const ack = r.u8('acknowledge flags');
      if (ack & 0xfe) throw new DecodeFailure('invalid_flags', 'reserved CONNACK flags set [MQTT-3.2.2-1]');
      const returnCode = r.u8('return code');
      return {
        type,
        sessionPresent: (ack & 1) === 1,
        returnCode,
        ...(v5 ? { properties: r.properties('CONNACK') } : {}),
      };
    }
    case 'publish': {
      const topic = topicName(r, level);
      const messageId = qos > 0 ? packetId(r) : undefined;
      const properties = v5 ? r.properties('PUBLISH') : undefined;
      if (topic === '' && properties?.topic_alias === undefined) {
        throw new DecodeFailure('invalid_topic', 'empty PUBLISH topic without a topic alias [MQTT-3.3.2-1]');
      }
      return {
        type,
        topic,
        ...(messageId !== undefined ? { messageId } : {}),
        ...(properties ? { properties } : {}),
        payload: r.rest(),
      };
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp': {
      const messageId = packetId(r);
      if (!v5) return { type, messageId };
      // MQTT 5.0 §3.4.2.1: no reason code means 0x00 (success).
      if (r.remaining === 0) return { type, messageId, reasonCode: 0 };
      const reasonCode = r.u8('reason code');
      return { type, messageId, reasonCode, ...(r.remaining > 0 ? { properties: r.properties(type) } : {}) };
    }
    case 'subscribe': {
      const messageId = packetId(r);
      const properties = v5 ? r.properties('SUBSCRIBE') : undefined;
      const subscriptions: Extract<MqttPacket, { type: 'subscribe' }>['subscriptions'] = [];
      while (r.remaining > 0) {
        const topic = topicFilter(r);
        const o = r.u8('subscription options');
        if ((o & 0x03) === 3)
          throw new DecodeFailure('invalid_qos', `subscription to "${topic}" asks QoS 3 [MQTT-3.8.3-4]`);
        if (o & (v5 ? 0xc0 : 0xfc))
          throw new DecodeFailure('invalid_flags', 'reserved subscription option bits set [MQTT-3.8.3-4]');
        subscriptions.push(
          v5
            ? { topic, qos: o & 3, noLocal: (o & 4) !== 0, retainAsPublished: (o & 8) !== 0 }
            : { topic, qos: o & 3 },
        );
      }
      if (subscriptions.length === 0)
        throw new DecodeFailure('empty_payload', 'SUBSCRIBE without a topic filter [MQTT-3.8.3-3]');
      return { type, messageId, subscriptions, ...(properties ? { properties } : {}) };
    }
    case 'suback':
    case 'unsuback': {
      const messageId = r.u16('packet identifier');
      const properties = v5 ? r.properties(type) : undefined;
      const codes = Array.from(r.rest());
      if (type === 'suback')
        return { type, messageId, granted: codes, ...(properties ? { properties } : {}) };
      return {
        type,
        messageId,
        ...(v5 ? { reasonCodes: codes } : {}),
        ...(properties ? { properties } : {}),
      };
    }
    case 'unsubscribe': {
      const messageId = packetId(r);
      const properties = v5 ? r.properties('UNSUBSCRIBE') : undefined;
      const topics: string[] = [];
      while (r.remaining > 0) topics.push(topicFilter(r));
      if (topics.length === 0)
        throw new DecodeFailure('empty_payload', 'UNSUBSCRIBE without a topic filter [MQTT-3.10.3-2]');
      return { type, messageId, topics, ...(properties ? { properties } : {}) };
    }
    case 'pingreq':
    case 'pingresp':
      return { type };
    case 'disconnect':
    case 'auth': {
      if (!v5) return { type };
      // MQTT 5.0 §3.14.2.1, §3.15.2.1: no reason code means 0x00.
      if (r.remaining === 0) return { type, reasonCode: 0 };
      const reasonCode = r.u8('reason code');
      return { type, reasonCode, ...(r.remaining > 0 ? { properties: r.properties(type) } : {}) };
    }
    case 'reserved':
      throw new DecodeFailure('reserved_type', 'reserved packet type');
  }
}

/** Decodes the single packet that starts at byte 0 of `bytes`. */
export function decodeMqttPacket(bytes: Uint8Array, options: MqttDecodeOptions = {}): MqttDecodeResult {
  const level = options.protocolLevel ?? 4;
  const head = readFixedHeader(bytes, 0, { maxPacketBytes: options.maxPacketBytes });
  if (head.status === 'error') return { ok: false, error: head.error };
  const bad = bytes.length > 0 ? checkFirstByte(bytes[0]!, level) : null;
  if (bad) return { ok: false, error: bad };
  if (head.status === 'incomplete')
    return fail('length_mismatch', `${bytes.length} bytes end inside the fixed header`);
  const h = head.header;
  const length = h.headerLength + h.remainingLength;
  if (bytes.length < length) {
    return fail(
      'length_mismatch',
      `${h.type} declares ${length} bytes, only ${bytes.length} present`,
      h.type,
    );
  }
  // The fixed-header bits, as every packet carries them (PUBREL/SUBSCRIBE/UNSUBSCRIBE show QoS 1).
  const qos = (h.flags >> 1) & 3;
  const base: Base = {
    length,
    remainingLength: h.remainingLength,
    dup: (h.flags & 0b1000) !== 0,
    qos,
    retain: (h.flags & 1) === 1,
  };
  const r = new Reader(bytes, h.headerLength, length);
  try {
    const body = decodeBody(r, h.type, qos, level);
    if (r.remaining > 0) {
      return fail('length_mismatch', `${r.remaining} bytes left after the ${h.type} fields`, h.type);
    }
    return { ok: true, packet: { ...base, ...body } as MqttPacket };
  } catch (error) {
    if (error instanceof DecodeFailure) return fail(error.code, error.message, h.type);
    return fail('length_mismatch', `unexpected decoder failure: ${String(error)}`, h.type);
  }
}

export interface StreamDecodeItem {
  offset: number;
  result: MqttDecodeResult;
}

/**
 * Decodes every packet of one direction of a connection. The protocol level starts at
 * `protocolLevel` (give the server side the level of the client's CONNECT) and follows any
 * CONNECT seen; when it is not given and no CONNECT comes first, it is guessed (3.1.1, else 5). Stops at the first framing error, which is returned as the last item.
 */
export function decodeMqttStream(
  stream: Uint8Array,
  options: MqttDecodeOptions = {},
): { items: StreamDecodeItem[]; trailingBytes: number; protocolLevel: number } {
  let level = options.protocolLevel ?? 4;
  // A capture that starts mid-connection has no CONNECT: try 3.1.1, and MQTT 5 when 3.1.1 does not fit.
  let guessing = options.protocolLevel === undefined;
  const split = splitMqttFrames(stream, { maxPacketBytes: options.maxPacketBytes });
  const items: StreamDecodeItem[] = [];
  let offset = 0;
  for (const frame of split.frames) {
    let result = decodeMqttPacket(frame, { ...options, protocolLevel: level });
    if (guessing && !result.ok && result.error.code === 'length_mismatch' && level === 4) {
      const v5 = decodeMqttPacket(frame, { ...options, protocolLevel: 5 });
      if (v5.ok) {
        result = v5;
        level = 5;
        guessing = false;
      }
    }
    if (result.ok && result.packet.type === 'connect') {
      level = result.packet.protocolLevel;
      guessing = false;
    } else if (!result.ok && result.error.type === 'connect') level = peekProtocolLevel(frame) ?? level;
    items.push({ offset, result });
    offset += frame.length;
  }
  if (split.error) items.push({ offset, result: { ok: false, error: split.error } });
  return { items, trailingBytes: split.error ? 0 : split.trailingBytes, protocolLevel: level };
}

/**
 * The protocol level byte of a CONNECT, even one that does not decode: the rest of the
 * connection is still read at that level (3.1.1 §3.1.2.1-2: name, then level).
 */
export function peekProtocolLevel(connect: Uint8Array): number | undefined {
  const head = readFixedHeader(connect);
  if (head.status !== 'ok' || head.header.typeNumber !== 1) return undefined;
  const at = head.header.headerLength;
  if (connect.length < at + 2) return undefined;
  const nameLength = (connect[at]! << 8) | connect[at + 1]!;
  const level = connect[at + 2 + nameLength];
  return level === 3 || level === 4 || level === 5 ? level : undefined;
}
