/**
 * Turns a sensor's payload (an MQTT PUBLISH body, a CoAP POST/PUT body) into event fields: JSON
 * objects are flattened to dotted keys, a bare number stays a number, anything else is text (or a
 * hex preview when it is not UTF-8). Bounded in keys, depth and text size, so a hostile payload
 * cannot blow up an event. Pure; never throws.
 */

export type PayloadFormat = 'auto' | 'json' | 'number' | 'text' | 'binary';

export interface ParsedPayload {
  format: 'json' | 'number' | 'text' | 'binary' | 'empty';
  /** Flattened leaves: `{"t":{"c":21.5}}` → `{ "t.c": 21.5 }`; a bare number → `{ value: n }`. */
  values: Record<string, number | string | boolean | null>;
  /** Text or hex preview, when the payload is not JSON or a number. */
  text?: string;
  /** True when keys or text were cut to the limits. */
  truncated: boolean;
}

export const PAYLOAD_LIMITS = {
  KEYS: 64,
  DEPTH: 8,
  KEY_CHARS: 128,
  TEXT_CHARS: 1024,
  STRING_CHARS: 256,
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function hex(bytes: Uint8Array, max: number): string {
  let out = '';
  for (let i = 0; i < Math.min(bytes.length, max); i++) out += bytes[i]!.toString(16).padStart(2, '0');
  return out;
}

/** Puts one leaf into `out.values`, counting distinct keys in `keys` (no key list made per leaf). */
function put(
  out: ParsedPayload,
  keys: { n: number },
  key: string,
  value: number | string | boolean | null,
): void {
  if (!Object.hasOwn(out.values, key)) keys.n++;
  // A payload's `{"__proto__": 1}` is a reading like any other, not the values' prototype.
  if (key === '__proto__')
    Object.defineProperty(out.values, key, { value, enumerable: true, writable: true, configurable: true });
  else out.values[key] = value;
}

function flatten(
  value: unknown,
  prefix: string,
  depth: number,
  out: ParsedPayload,
  keys: { n: number },
): void {
  if (keys.n >= PAYLOAD_LIMITS.KEYS || prefix.length > PAYLOAD_LIMITS.KEY_CHARS) {
    out.truncated = true;
    return;
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    put(out, keys, prefix || 'value', value);
    return;
  }
  if (typeof value === 'string') {
    if (value.length > PAYLOAD_LIMITS.STRING_CHARS) out.truncated = true;
    put(out, keys, prefix || 'value', value.slice(0, PAYLOAD_LIMITS.STRING_CHARS));
    return;
  }
  if (depth >= PAYLOAD_LIMITS.DEPTH || typeof value !== 'object') {
    out.truncated = true;
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      flatten(value[i], prefix ? `${prefix}.${i}` : String(i), depth + 1, out, keys);
    return;
  }
  // for-in over JSON.parse's own keys, in their order: no entry array per member.
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    if (Object.hasOwn(obj, key)) flatten(obj[key], prefix ? `${prefix}.${key}` : key, depth + 1, out, keys);
  }
}

export function parsePayload(bytes: Uint8Array, format: PayloadFormat = 'auto'): ParsedPayload {
  const out: ParsedPayload = { format: 'empty', values: {}, truncated: false };
  if (bytes.length === 0) return out;
  let text: string | undefined;
  if (format !== 'binary') {
    try {
      text = utf8.decode(bytes);
    } catch {
      text = undefined;
    }
  }
  if (text === undefined) {
    out.format = 'binary';
    out.text = hex(bytes, PAYLOAD_LIMITS.TEXT_CHARS / 2);
    out.truncated = bytes.length > PAYLOAD_LIMITS.TEXT_CHARS / 2;
    return out;
  }
  const trimmed = text.trim();
  if ((format === 'auto' || format === 'number') && NUMBER.test(trimmed)) {
    out.format = 'number';
    out.values.value = Number(trimmed);
    return out;
  }
  if (format === 'auto' || format === 'json') {
    const first = trimmed[0];
    if (first === '{' || first === '[' || format === 'json') {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        out.format = 'json';
        flatten(parsed, '', 0, out, { n: 0 });
        return out;
      } catch {
        // not JSON: fall through to text
      }
    }
  }
  out.format = 'text';
  out.text = text.slice(0, PAYLOAD_LIMITS.TEXT_CHARS);
  out.truncated = text.length > PAYLOAD_LIMITS.TEXT_CHARS;
  return out;
}
