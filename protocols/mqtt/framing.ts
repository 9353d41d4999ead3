/**
 * MQTT framing: the fixed header (packet type, flags, remaining length; MQTT 3.1.1 §2.2) that
 * cuts a TCP byte stream into control packets. `splitMqttFrames` cuts a whole stream (captures);
 * `createMqttFrameScanner` follows a live stream chunk by chunk without keeping the payload
 * bytes, so a broker can refuse a packet that declares more than its limit before buffering it.
 * Framing looks at lengths only; `checkFirstByte` judges the type and flags. Pure: no sockets, no
 * timers, never throws.
 */
import { MQTT_PACKET_TYPES, type MqttError, type MqttPacketTypeName } from './types.ts';

export interface MqttFixedHeader {
  typeNumber: number;
  type: MqttPacketTypeName;
  flags: number;
  remainingLength: number;
  /** 1 byte of type and flags plus 1–4 bytes of remaining length. */
  headerLength: number;
}

export type FixedHeaderResult =
  | { status: 'ok'; header: MqttFixedHeader }
  | { status: 'incomplete' }
  | { status: 'error'; error: MqttError };

export interface FramingOptions {
  /** Largest accepted packet, fixed header included. */
  maxPacketBytes?: number;
}

/** The largest remaining length the four-byte varint can carry (3.1.1 §2.2.3): 268,435,455. */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** The flags a type must carry when the table fixes them ([MQTT-2.2.2-1]); PUBLISH is free. */
function requiredFlags(typeNumber: number): number | null {
  if (typeNumber === 3) return null;
  return typeNumber === 6 || typeNumber === 8 || typeNumber === 10 ? 0b0010 : 0;
}

function err(code: MqttError['code'], message: string, type?: MqttPacketTypeName): MqttError {
  return type ? { code, message, type } : { code, message };
}

/** Checks the first byte: type and flags. AUTH (15) exists from MQTT 5 on. */
export function checkFirstByte(byte: number, protocolLevel = 5): MqttError | null {
  const typeNumber = byte >> 4;
  const type = MQTT_PACKET_TYPES[typeNumber]!;
  const flags = byte & 0x0f;
  if (typeNumber === 0 || (typeNumber === 15 && protocolLevel < 5)) {
    return err('reserved_type', `packet type ${typeNumber} is reserved`, type);
  }
  const required = requiredFlags(typeNumber);
  if (required !== null && flags !== required) {
    return err('invalid_flags', `${type} flags must be ${required}, got ${flags} [MQTT-2.2.2-1]`, type);
  }
  if (typeNumber === 3 && (flags & 0b0110) === 0b0110) {
    return err('invalid_qos', 'PUBLISH with both QoS bits set [MQTT-3.3.1-4]', type);
  }
  return null;
}

/** Reads the fixed header at `offset`. */
export function readFixedHeader(
  bytes: Uint8Array,
  offset = 0,
  options: FramingOptions = {},
): FixedHeaderResult {
  if (bytes.length <= offset) return { status: 'incomplete' };
  // Only the length decides framing: a packet with bad flags or a reserved type still has a
  // readable length, so the stream stays in step (the decoder reports those, see checkFirstByte).
  const first = bytes[offset]!;
  let value = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (offset + i >= bytes.length) return { status: 'incomplete' };
    const b = bytes[offset + i]!;
    value += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) {
      const typeNumber = first >> 4;
      const header: MqttFixedHeader = {
        typeNumber,
        type: MQTT_PACKET_TYPES[typeNumber]!,
        flags: first & 0x0f,
        remainingLength: value,
        headerLength: 1 + i,
      };
      const max = options.maxPacketBytes;
      if (max !== undefined && header.headerLength + value > max) {
        const declaredBytes = header.headerLength + value;
        const e = err(
          'too_large',
          `${header.type} of ${declaredBytes} bytes exceeds the limit of ${max}`,
          header.type,
        );
        return { status: 'error', error: { ...e, declaredBytes } };
      }
      return { status: 'ok', header };
    }
    multiplier *= 128;
  }
  return {
    status: 'error',
    error: err('invalid_remaining_length', 'remaining length longer than 4 bytes [MQTT-1.5.5-1]'),
  };
}

export interface SplitResult {
  frames: Uint8Array[];
  /** Why cutting stopped early; the rest of the stream cannot be framed. */
  error?: MqttError;
  /** Bytes at the end that do not make a whole packet (a capture cut short). */
  trailingBytes: number;
}

/** Cuts a whole stream into packets (views into `stream`, no copies). */
export function splitMqttFrames(stream: Uint8Array, options: FramingOptions = {}): SplitResult {
  const frames: Uint8Array[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const r = readFixedHeader(stream, offset, options);
    if (r.status === 'error') return { frames, error: r.error, trailingBytes: stream.length - offset };
    if (r.status === 'incomplete') break;
    const end = offset + r.header.headerLength + r.header.remainingLength;
    if (end > stream.length) break;
    frames.push(stream.subarray(offset, end));
    offset = end;
  }
  return { frames, trailingBytes: stream.length - offset };
}

export interface FrameScanner {
  /** Feeds the next chunk; returns the headers of packets that started in it, or the first error. */
  push(chunk: Uint8Array): { headers: MqttFixedHeader[]; error?: MqttError };
  /** Bytes still owed by the packet in progress. */
  readonly pending: number;
}

/**
 * Follows packet boundaries across chunks, keeping at most the 5 header bytes. After an error the
 * stream has lost its framing: every later push returns the same error.
 */
export function createMqttFrameScanner(options: FramingOptions = {}): FrameScanner {
  const head = new Uint8Array(5);
  let headLength = 0;
  let skip = 0;
  let failed: MqttError | undefined;
  return {
    get pending() {
      return skip;
    },
    push(chunk) {
      const headers: MqttFixedHeader[] = [];
      if (failed) return { headers, error: failed };
      let i = 0;
      while (i < chunk.length) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - i);
          skip -= n;
          i += n;
          continue;
        }
        head[headLength++] = chunk[i++]!;
        const r = readFixedHeader(head.subarray(0, headLength), 0, options);
        if (r.status === 'incomplete') continue;
        headLength = 0;
        if (r.status === 'error') {
          failed = r.error;
          return { headers, error: failed };
        }
        headers.push(r.header);
        skip = r.header.remainingLength;
      }
      return { headers };
    },
  };
}

/**
 * Does a TCP stream start with an MQTT CONNECT? The first packet of a client must be CONNECT
 * ([MQTT-3.1.0-1]): type 1 with flags 0, a remaining length, then the protocol name "MQTT" with
 * level 4 or 5, or "MQIsdp" with level 3 (3.1.1 §3.1.2.1-2). Lets a capture find MQTT on a port
 * nobody configured.
 */
export function looksLikeMqttConnect(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x10) return false;
  const head = readFixedHeader(bytes, 0);
  if (head.status !== 'ok' || head.header.remainingLength < 10) return false;
  const at = head.header.headerLength;
  const name = (n: string) =>
    bytes[at] === 0 &&
    bytes[at + 1] === n.length &&
    [...n].every((c, i) => bytes[at + 2 + i] === c.charCodeAt(0));
  if (name('MQTT')) return bytes[at + 6] === 4 || bytes[at + 6] === 5;
  if (name('MQIsdp')) return bytes[at + 8] === 3;
  return false;
}
