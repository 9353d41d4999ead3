/**
 * The DNP3 codec's public API (IEEE 1815-2012): link frames with their CRCs, transport reassembly
 * with sequence wrap, application fragments with object headers, points and values, a session that
 * pairs responses with requests per connection, and the mapping to the one `Event`. Pure
 * throughout; a capture source feeds `createDnp3Session` with TCP payload per direction (port
 * 20000 by default) or UDP datagrams and maps what it returns with `dnp3ToEvent`.
 */
export * from './types.ts';
export {
  crcDnp,
  createLinkDeframer,
  LINK_HEADER_BYTES,
  type LinkDeframer,
  linkFrameBytes,
  MAX_LINK_FRAME_BYTES,
  readLinkHeader,
  scanLinkFrames,
  type LinkScanItem,
} from './link.ts';
export {
  createTransportReassembler,
  readTransportHeader,
  type TransportReassembler,
  type TransportResult,
} from './transport.ts';
export { decodeApdu, readAppControl } from './application.ts';
export { objectSpec } from './object-sizes.ts';
export {
  createDnp3Session,
  type Dnp3Session,
  type Dnp3SessionItem,
  type Dnp3SessionOptions,
  type Dnp3Side,
  isBroadcast,
  type OpenDnp3Request,
} from './session.ts';
export {
  apduFields,
  dnp3Action,
  type Dnp3Endpoint,
  dnp3ErrorToEvent,
  type Dnp3EventContext,
  dnp3ItemToEvent,
  dnp3ToEvent,
} from './to-event.ts';
export { encodeFragment, encodeLinkFrame, type FragmentFraming, MAX_SEGMENT_BYTES } from './encode.ts';
export { dnp3PointValues, looksLikeDnp3, MAX_DNP3_VALUES } from './values.ts';
