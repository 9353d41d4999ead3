/**
 * The CoAP message codec (RFC 7252 §3): header, token, options (delta-encoded, §3.1) and payload.
 * `decodeCoapMessage` never throws: a bad datagram is a typed error carrying the message id when
 * it could be read, so a server can answer with a Reset (§4.2, §4.3). `encodeCoapMessage` is the
 * inverse, used for Echo challenges in tests and by the property tests (encode → decode).
 */
import {
  COAP_METHODS,
  COAP_OPTION,
  COAP_OPTIONS,
  COAP_TYPES,
  type CoapDecodeResult,
  type CoapError,
  type CoapMessage,
  type CoapOption,
} from './types.ts';

export interface CoapDecodeOptions {
  maxMessageBytes?: number;
}

const EMPTY: Uint8Array = new Uint8Array(0);

export function codeText(code: number): string {
  return `${code >> 5}.${String(code & 0x1f).padStart(2, '0')}`;
}

function fail(error: CoapError): CoapDecodeResult {
  return { ok: false, error };
}

export function decodeCoapMessage(bytes: Uint8Array, options: CoapDecodeOptions = {}): CoapDecodeResult {
  if (options.maxMessageBytes !== undefined && bytes.length > options.maxMessageBytes) {
    return fail({ code: 'too_large', message: `${bytes.length} bytes exceed ${options.maxMessageBytes}` });
  }
  if (bytes.length < 4)
    return fail({ code: 'too_short', message: `${bytes.length} bytes; a header is 4 (§3)` });
  const b0 = bytes[0]!;
  const version = b0 >> 6;
  const type = COAP_TYPES[(b0 >> 4) & 3]!;
  const tkl = b0 & 0x0f;
  const code = bytes[1]!;
  const messageId = (bytes[2]! << 8) | bytes[3]!;
  const where = { messageId, type };
  if (version !== 1) return fail({ code: 'invalid_version', message: `version ${version} (§3)`, ...where });
  if (tkl > 8) {
    return fail({ code: 'invalid_token_length', message: `token length ${tkl} is reserved (§3)`, ...where });
  }
  if (code === 0 && bytes.length > 4) {
    return fail({
      code: 'invalid_empty_message',
      message: 'an Empty message has bytes after its header (§4.1)',
      ...where,
    });
  }
  if (4 + tkl > bytes.length)
    return fail({ code: 'too_short', message: 'token runs past the end (§3)', ...where });
  const token = bytes.subarray(4, 4 + tkl);
  const opts: CoapOption[] = [];
  let at = 4 + tkl;
  let number = 0;
  let payload = EMPTY;
  while (at < bytes.length) {
    const byte = bytes[at]!;
    if (byte === 0xff) {
      if (at + 1 === bytes.length) {
        return fail({ code: 'empty_payload', message: 'payload marker without payload (§3)', ...where });
      }
      payload = bytes.subarray(at + 1);
      break;
    }
    at++;
    let delta = byte >> 4;
    let length = byte & 0x0f;
    // §3.1: 13 → one extra byte (+13), 14 → two extra bytes (+269), 15 → reserved.
    const ext = (nibble: number, what: string): number | CoapError => {
      if (nibble === 15)
        return { code: 'invalid_option', message: `option ${what} nibble 15 (§3.1)`, ...where };
      if (nibble === 13) {
        if (at + 1 > bytes.length)
          return { code: 'invalid_option', message: `option ${what} runs past the end`, ...where };
        return bytes[at++]! + 13;
      }
      if (nibble === 14) {
        if (at + 2 > bytes.length)
          return { code: 'invalid_option', message: `option ${what} runs past the end`, ...where };
        const v = ((bytes[at]! << 8) | bytes[at + 1]!) + 269;
        at += 2;
        return v;
      }
      return nibble;
    };
    const d = ext(delta, 'delta');
    if (typeof d !== 'number') return fail(d);
    const l = ext(length, 'length');
    if (typeof l !== 'number') return fail(l);
    delta = d;
    length = l;
    if (at + length > bytes.length) {
      return fail({
        code: 'invalid_option',
        message: `option value of ${length} bytes runs past the end (§3.1)`,
        ...where,
      });
    }
    number += delta;
    opts.push({ number, value: bytes.subarray(at, at + length) });
    at += length;
  }
  return {
    ok: true,
    message: { version, type, code, codeText: codeText(code), messageId, token, options: opts, payload },
  };
}

export function encodeCoapMessage(m: {
  type: CoapMessage['type'];
  code: number;
  messageId: number;
  token?: Uint8Array;
  options?: CoapOption[];
  payload?: Uint8Array;
}): Uint8Array {
  const token = m.token ?? EMPTY;
  const parts: number[] = [
    (1 << 6) | (COAP_TYPES.indexOf(m.type) << 4) | token.length,
    m.code,
    m.messageId >> 8,
    m.messageId & 0xff,
    ...token,
  ];
  const nibble = (v: number): [number, number[]] =>
    v < 13 ? [v, []] : v < 269 ? [13, [v - 13]] : [14, [(v - 269) >> 8, (v - 269) & 0xff]];
  let last = 0;
  for (const o of [...(m.options ?? [])].sort((a, b) => a.number - b.number)) {
    const [dn, dx] = nibble(o.number - last);
    const [ln, lx] = nibble(o.value.length);
    parts.push((dn << 4) | ln, ...dx, ...lx, ...o.value);
    last = o.number;
  }
  const payload = m.payload ?? EMPTY;
  if (payload.length > 0) parts.push(0xff, ...payload);
  return Uint8Array.from(parts);
}

/** Unsigned integer option value (§3.2: big-endian, leading zeros may be omitted). */
export function optionUint(value: Uint8Array): number {
  let n = 0;
  for (const b of value) n = n * 256 + b;
  return n;
}

export function uintOption(n: number): Uint8Array {
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.from(out);
}

const utf8 = new TextDecoder();

/** The parts of a request an event shows: method, path, query, content format, observe, echo. */
export function describeCoapMessage(m: CoapMessage) {
  const path = m.options.filter((o) => o.number === COAP_OPTION.URI_PATH).map((o) => utf8.decode(o.value));
  const query = m.options.filter((o) => o.number === COAP_OPTION.URI_QUERY).map((o) => utf8.decode(o.value));
  const cf = m.options.find((o) => o.number === COAP_OPTION.CONTENT_FORMAT);
  const observe = m.options.find((o) => o.number === COAP_OPTION.OBSERVE);
  const echo = m.options.find((o) => o.number === COAP_OPTION.ECHO);
  return {
    method:
      m.code >= 1 && m.code <= 31
        ? (COAP_METHODS[m.code] ?? `0.${String(m.code).padStart(2, '0')}`)
        : undefined,
    path: `/${path.join('/')}`,
    pathSegments: path,
    query,
    contentFormat: cf ? optionUint(cf.value) : undefined,
    observe: observe ? optionUint(observe.value) : undefined,
    echo: echo?.value,
    optionNames: m.options.map((o) => COAP_OPTIONS[o.number] ?? String(o.number)),
  };
}
