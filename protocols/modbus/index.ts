/**
 * The Modbus codec's public API: MBAP framing (Modbus Messaging on TCP/IP Implementation Guide
 * V1.0b), PDU decoding and encoding for every public function code (Modbus Application Protocol
 * V1.1b3), RTU framing with its CRC (Modbus over Serial Line V1.02), request/response pairing per
 * connection, and the mapping to the one `Event`. Pure throughout; the sockets live in
 * gateway/sources/modbus-*.
 */
export * from './types.ts';
export {
  checkMbapHeader,
  createMbapDeframer,
  encodeMbap,
  MAX_MBAP_LENGTH,
  MBAP_HEADER_BYTES,
  type MbapDeframer,
  type MbapDeframeResult,
  type MbapFramingError,
  parseAdu,
  readMbapHeader,
} from './mbap.ts';
export { type DecodeOptions, decodePdu } from './pdu-decode.ts';
export {
  encodeException,
  encodeReadResponse,
  encodeRequest,
  encodeWriteMultipleResponse,
  type ModbusRequestSpec,
} from './encode.ts';
export { crc16Modbus, encodeRtu, parseRtu, type RtuFrame } from './rtu.ts';
export {
  createModbusSession,
  MAX_OPEN_TRANSACTIONS,
  type ModbusSession,
  type OpenRequest,
  type SessionDecode,
} from './session.ts';
export {
  type ModbusEventContext,
  modbusAction,
  modbusErrorToEvent,
  modbusToEvent,
  pduFields,
} from './to-event.ts';
