/**
 * CoAP message shapes (RFC 7252 §3) and the typed errors of the codec, with the names of the
 * registered options, methods, response codes and content formats an event shows.
 */

export type CoapType = 'CON' | 'NON' | 'ACK' | 'RST';
export const COAP_TYPES: readonly CoapType[] = ['CON', 'NON', 'ACK', 'RST'];

export interface CoapOption {
  number: number;
  value: Uint8Array;
}

export interface CoapMessage {
  version: number;
  type: CoapType;
  /** The code byte: class in the top 3 bits, detail in the low 5 (RFC 7252 §3). */
  code: number;
  /** `c.dd`, e.g. `0.01` (GET), `2.05` (Content), `4.05` (Method Not Allowed). */
  codeText: string;
  messageId: number;
  token: Uint8Array;
  options: CoapOption[];
  payload: Uint8Array;
}

export type CoapErrorCode =
  /** Fewer than the 4 header bytes (§3). */
  | 'too_short'
  /** Version other than 1 (§3: "Implementations of this specification MUST set this field to 1"). */
  | 'invalid_version'
  /** TKL 9–15 (§3: reserved, "MUST be processed as a message format error"). */
  | 'invalid_token_length'
  /** Delta or length nibble 15 outside the payload marker, or an option past the end (§3.1). */
  | 'invalid_option'
  /** A payload marker followed by no payload (§3: "MUST be processed as a message format error"). */
  | 'empty_payload'
  /** Code 0.00 with a token, options or payload (§4.1). */
  | 'invalid_empty_message'
  /** Larger than the configured maximum. */
  | 'too_large';

export interface CoapError {
  code: CoapErrorCode;
  message: string;
  /** Message id and type, when the header could be read (to answer with RST, §4.2/§4.3). */
  messageId?: number;
  type?: CoapType;
}

export type CoapDecodeResult = { ok: true; message: CoapMessage } | { ok: false; error: CoapError };

/** Option numbers (RFC 7252 §5.10 Table 4, RFC 7641 Observe, RFC 7959 Block, RFC 9175 Echo/Request-Tag). */
export const COAP_OPTIONS: Record<number, string> = {
  1: 'If-Match',
  3: 'Uri-Host',
  4: 'ETag',
  5: 'If-None-Match',
  6: 'Observe',
  7: 'Uri-Port',
  8: 'Location-Path',
  9: 'OSCORE',
  11: 'Uri-Path',
  12: 'Content-Format',
  14: 'Max-Age',
  15: 'Uri-Query',
  17: 'Accept',
  20: 'Location-Query',
  23: 'Block2',
  27: 'Block1',
  28: 'Size2',
  35: 'Proxy-Uri',
  39: 'Proxy-Scheme',
  60: 'Size1',
  252: 'Echo',
  258: 'No-Response',
  292: 'Request-Tag',
};

export const COAP_OPTION = {
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  URI_QUERY: 15,
  OBSERVE: 6,
  ECHO: 252,
  BLOCK1: 27,
  BLOCK2: 23,
} as const;

export const COAP_METHODS: Record<number, string> = {
  1: 'GET',
  2: 'POST',
  3: 'PUT',
  4: 'DELETE',
  5: 'FETCH',
  6: 'PATCH',
  7: 'iPATCH',
};

/** Content-Format ids (RFC 7252 §12.3 and the IANA registry) with tshark's names. */
export const COAP_CONTENT_FORMATS: Record<number, string> = {
  0: 'text/plain; charset=utf-8',
  40: 'application/link-format',
  41: 'application/xml',
  42: 'application/octet-stream',
  47: 'application/exi',
  50: 'application/json',
  60: 'application/cbor',
  110: 'application/senml+json',
  112: 'application/senml+cbor',
};
