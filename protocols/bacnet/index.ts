/**
 * The BACnet codec's public API (ANSI/ASHRAE 135-2020): BACnet/IP BVLC (Annex J), NPDU (clause 6),
 * APDU with its services (clauses 13–21) and segmentation reassembly (clause 5.2), the pairing of
 * confirmed requests with their answers, and the mapping to the one `Event`. Pure throughout.
 */
export * from './types.ts';
export * from './names.ts';
export { readTag, readApplicationValue, type Tag } from './tags.ts';
export { decodeParams, MAX_DEPTH, MAX_OBJECTS, MAX_VALUES } from './services.ts';
export { BVLC_TYPE_BIP, decodeApdu, decodeBacnetIp, decodeBacnetLlc, decodeNpduApdu } from './decode.ts';
export {
  type BacnetMessage,
  type BacnetSession,
  createBacnetSession,
  MAX_OPEN_TRANSACTIONS,
  MAX_REASSEMBLIES,
  MAX_REASSEMBLY_BYTES,
  type OpenRequest,
  type SessionResult,
} from './session.ts';
export {
  type BacnetEventContext,
  bacnetAction,
  bacnetErrorToEvent,
  bacnetToEvent,
  paramFields,
} from './to-event.ts';
export {
  BACNET_IP_PORT,
  type BacnetDatagram,
  type BacnetEventStream,
  createBacnetEventStream,
  isBacnetPort,
} from './stream.ts';
