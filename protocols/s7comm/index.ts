/**
 * The S7comm codec's public API: ISO-on-TCP framing (TPKT, RFC 1006; COTP class 0, X.224), the
 * classic S7comm PDU (0x32) with its userdata and SZL answers, the S7comm-plus (0x72) header,
 * one session per TCP connection that rebuilds segmented PDUs and pairs answers with requests,
 * and the mapping to the one `Event`. Pure throughout. A capture adopts it through
 * `createS7commStreams()` (stream.ts: in-order TCP bytes of any connection in, events out), or
 * keeps its own `createS7commSession()` per connection and maps with `s7commToEvent`.
 */
export * from './types.ts';
export {
  createTpktDeframer,
  encodeTpkt,
  parseCotp,
  type TpktDeframer,
  type TpktFramingError,
} from './tpkt.ts';
export { decodeS7Pdu } from './pdu-decode.ts';
export { MAX_SZL_ENTRIES, parseSzl, type S7Identity, szlIdentity, type SzlList } from './szl.ts';
export {
  createS7commSession,
  MAX_OPEN_FRAGMENTS,
  MAX_OPEN_REQUESTS,
  type S7commSession,
  type S7FramingError,
  type S7Message,
  type S7OpenRequest,
  type S7PushResult,
} from './session.ts';
export { identityFields, plusFields, s7PduFields } from './fields.ts';
export { s7commAction, s7commErrorToEvent, s7commToEvent, type S7EventContext, s7Verb } from './to-event.ts';
export { S7COMM_PORT } from './ports.ts';
export {
  createS7commStreams,
  type S7commChunkMeta,
  type S7commFlow,
  type S7commStreamOptions,
  type S7commStreams,
} from './stream.ts';
