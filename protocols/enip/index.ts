/**
 * The EtherNet/IP + CIP codec's public API: encapsulation framing and decoding (CIP Vol. 2 §2-3,
 * §2-6), CIP explicit messages with their EPATH, Multiple Service Packet and Unconnected Send
 * (Vol. 1 §2-4, Appendix A, C), List Identity, implicit I/O on UDP 2222, request/reply pairing per
 * TCP connection, and the mapping to the one `Event`. Pure throughout.
 *
 * Stream-level use (what a capture source does): per TCP connection to port 44818, one
 * `createEnipSession()`; feed it each direction's reassembled bytes with `push(bytes, direction,
 * meta, gap)`; for each `decoded` entry call `enipToEvents(result.value, direction, ctx,
 * request?.pdu)` or `enipErrorToEvent`; framing `errors` also go to `enipErrorToEvent`. UDP
 * datagrams on port 44818 or 2222: `decodeEnipDatagram(payload, { srcPort, dstPort })`, then the
 * same mappers.
 */
export * from './types.ts';
export * from './names.ts';
export { decodeCip, flattenCip, parsePath } from './cip.ts';
export {
  createEncapDeframer,
  decodeEncap,
  decodeEnipDatagram,
  decodeIo,
  type EncapDeframer,
  type EncapFramingError,
  parseCpf,
  parseIdentity,
  readEncapHeader,
} from './encap.ts';
export {
  answeredRequest,
  createEnipSession,
  type EnipOpenRequest,
  type EnipSession,
  type EnipSessionDecode,
  MAX_OPEN_REQUESTS,
} from './session.ts';
export { type EnipEventContext, enipErrorToEvent, enipToEvents, identityFields } from './to-event.ts';
