/**
 * A bounds-checked cursor over one MQTT packet's bytes: the data representations of MQTT 3.1.1
 * §1.5 (two-byte integers, length-prefixed UTF-8 strings and binary data) and the MQTT 5 variable
 * byte integer and property block (MQTT 5.0 §1.5.5, §2.2.2). A read past the end raises a private
 * exception that the decoder turns into a typed `length_mismatch` error; nothing escapes it.
 */
import type { MqttErrorCode, MqttProperties } from './types.ts';

export class DecodeFailure {
  constructor(
    readonly code: MqttErrorCode,
    readonly message: string,
  ) {}
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

type PropertyKind = 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'binary' | 'pair';

/** MQTT 5.0 §2.2.2.2 Table 2-4: identifier → name and data type. */
const PROPERTIES: Record<number, [string, PropertyKind]> = {
  1: ['payload_format_indicator', 'byte'],
  2: ['message_expiry_interval', 'u32'],
  3: ['content_type', 'string'],
  8: ['response_topic', 'string'],
  9: ['correlation_data', 'binary'],
  11: ['subscription_identifier', 'varint'],
  17: ['session_expiry_interval', 'u32'],
  18: ['assigned_client_identifier', 'string'],
  19: ['server_keep_alive', 'u16'],
  21: ['authentication_method', 'string'],
  22: ['authentication_data', 'binary'],
  23: ['request_problem_information', 'byte'],
  24: ['will_delay_interval', 'u32'],
  25: ['request_response_information', 'byte'],
  26: ['response_information', 'string'],
  28: ['server_reference', 'string'],
  31: ['reason_string', 'string'],
  33: ['receive_maximum', 'u16'],
  34: ['topic_alias_maximum', 'u16'],
  35: ['topic_alias', 'u16'],
  36: ['maximum_qos', 'byte'],
  37: ['retain_available', 'byte'],
  38: ['user_property', 'pair'],
  39: ['maximum_packet_size', 'u32'],
  40: ['wildcard_subscription_available', 'byte'],
  41: ['subscription_identifier_available', 'byte'],
  42: ['shared_subscription_available', 'byte'],
};

export class Reader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new DecodeFailure('length_mismatch', `packet ends inside ${what}`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const b = this.bytes;
    const v =
      ((b[this.pos]! << 24) | (b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!) >>> 0;
    this.pos += 4;
    return v;
  }

  /** MQTT 5.0 §1.5.5: at most four bytes. */
  varint(what: string): number {
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.u8(what);
      value += (b & 0x7f) * multiplier;
      if ((b & 0x80) === 0) return value;
      multiplier *= 128;
    }
    throw new DecodeFailure('invalid_property', `${what}: variable byte integer longer than 4 bytes`);
  }

  binary(what: string): Uint8Array {
    const n = this.u16(what);
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A UTF-8 string: well-formed, without U+0000 ([MQTT-1.5.3-1], [MQTT-1.5.3-2]). */
  string(what: string): string {
    const raw = this.binary(what);
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      throw new DecodeFailure('invalid_utf8', `${what} is not well-formed UTF-8 [MQTT-1.5.3-1]`);
    }
    if (text.includes('\u0000')) {
      throw new DecodeFailure('invalid_utf8', `${what} contains U+0000 [MQTT-1.5.3-2]`);
    }
    return text;
  }

  rest(): Uint8Array {
    const v = this.bytes.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }

  /** An MQTT 5 property block: its length, then identifier/value pairs (MQTT 5.0 §2.2.2). */
  properties(what: string): MqttProperties {
    const length = this.varint(`${what} property length`);
    if (this.pos + length > this.end) {
      throw new DecodeFailure('invalid_property', `${what} property length ${length} runs past the packet`);
    }
    const inner = new Reader(this.bytes, this.pos, this.pos + length);
    this.pos += length;
    const out: MqttProperties = {};
    while (inner.remaining > 0) {
      const id = inner.varint('property identifier');
      const known = PROPERTIES[id];
      if (!known) throw new DecodeFailure('invalid_property', `unknown property identifier ${id}`);
      const [name, kind] = known;
      const label = `property ${name}`;
      if (kind === 'pair') {
        const pairs = (out[name] as Array<[string, string]> | undefined) ?? [];
        pairs.push([inner.string(label), inner.string(label)]);
        out[name] = pairs;
        continue;
      }
      const value =
        kind === 'byte'
          ? inner.u8(label)
          : kind === 'u16'
            ? inner.u16(label)
            : kind === 'u32'
              ? inner.u32(label)
              : kind === 'varint'
                ? inner.varint(label)
                : kind === 'string'
                  ? inner.string(label)
                  : inner.binary(label);
      out[name] = value;
    }
    return out;
  }
}
