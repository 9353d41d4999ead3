/**
 * The shapes the Modbus codec produces: a decoded ADU (MBAP header + PDU), the decoded PDU as one
 * flat record whose optional fields depend on the function code, typed errors, and the names of
 * the public function codes, diagnostic sub-functions and exception codes (Modbus Application
 * Protocol Specification V1.1b3, §5.1, §6.8.1, §7).
 */

/** Public function codes (§5.1, table "Public Function Code Definition"). */
export const FUNCTION_NAMES: Readonly<Record<number, string>> = {
  1: 'read_coils',
  2: 'read_discrete_inputs',
  3: 'read_holding_registers',
  4: 'read_input_registers',
  5: 'write_single_coil',
  6: 'write_single_register',
  7: 'read_exception_status',
  8: 'diagnostics',
  11: 'get_comm_event_counter',
  12: 'get_comm_event_log',
  15: 'write_multiple_coils',
  16: 'write_multiple_registers',
  17: 'report_server_id',
  20: 'read_file_record',
  21: 'write_file_record',
  22: 'mask_write_register',
  23: 'read_write_multiple_registers',
  24: 'read_fifo_queue',
  43: 'encapsulated_interface_transport',
};

/** Codes §5.1 reserves for user-defined functions (65–72, 100–110); 90 is Schneider's UMAS. */
export function isUserDefinedFunction(fc: number): boolean {
  return (fc >= 65 && fc <= 72) || (fc >= 100 && fc <= 110);
}

/** MEI types of function 43 (§6.19–§6.21). */
export const MEI_CANOPEN = 13;
export const MEI_READ_DEVICE_ID = 14;

/** Diagnostics sub-functions (§6.8.1). */
export const DIAGNOSTIC_NAMES: Readonly<Record<number, string>> = {
  0: 'return_query_data',
  1: 'restart_communications_option',
  2: 'return_diagnostic_register',
  3: 'change_ascii_input_delimiter',
  4: 'force_listen_only_mode',
  10: 'clear_counters_and_diagnostic_register',
  11: 'return_bus_message_count',
  12: 'return_bus_communication_error_count',
  13: 'return_bus_exception_error_count',
  14: 'return_server_message_count',
  15: 'return_server_no_response_count',
  16: 'return_server_nak_count',
  17: 'return_server_busy_count',
  18: 'return_bus_character_overrun_count',
  20: 'clear_overrun_counter_and_flag',
};

/** Exception codes (§7). */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal_function',
  2: 'illegal_data_address',
  3: 'illegal_data_value',
  4: 'server_device_failure',
  5: 'acknowledge',
  6: 'server_device_busy',
  8: 'memory_parity_error',
  10: 'gateway_path_unavailable',
  11: 'gateway_target_device_failed_to_respond',
};

/** Read Device Identification object names (§6.21, table of object ids 0x00–0x06). */
export const DEVICE_ID_OBJECT_NAMES: Readonly<Record<number, string>> = {
  0: 'vendor_name',
  1: 'product_code',
  2: 'major_minor_revision',
  3: 'vendor_url',
  4: 'product_name',
  5: 'model_name',
  6: 'user_application_name',
};

export function functionName(fc: number): string {
  return FUNCTION_NAMES[fc] ?? (isUserDefinedFunction(fc) ? `user_defined_${fc}` : `unknown_${fc}`);
}

export type ModbusDirection = 'request' | 'response';

/** Maximum PDU size (§4.1: 256-byte serial ADU minus address and CRC). */
export const MAX_PDU_BYTES = 253;

export interface FileRecord {
  referenceType: number;
  fileNumber?: number;
  recordNumber?: number;
  recordLength?: number;
  /** Register values of the record (write requests/responses, read responses). */
  values?: number[];
}

export interface DeviceIdObject {
  id: number;
  value: string;
}

/**
 * A decoded PDU. `functionCode` is the byte on the wire (0x80 set on an exception); `function` is
 * the code without that bit. Which of the optional fields are present depends on the function
 * and the direction; `anomalies` lists spec violations that did not stop decoding.
 */
export interface ModbusPdu {
  direction: ModbusDirection;
  functionCode: number;
  function: number;
  exception: boolean;
  exceptionCode?: number;
  address?: number;
  quantity?: number;
  /** Register values (16-bit) or bit values (0/1) carried by the PDU. */
  values?: number[];
  byteCount?: number;
  subFunction?: number;
  readAddress?: number;
  readQuantity?: number;
  writeAddress?: number;
  writeQuantity?: number;
  andMask?: number;
  orMask?: number;
  fileRecords?: FileRecord[];
  meiType?: number;
  readDeviceIdCode?: number;
  objectId?: number;
  conformityLevel?: number;
  moreFollows?: boolean;
  nextObjectId?: number;
  objects?: DeviceIdObject[];
  serverId?: Uint8Array;
  runIndicator?: number;
  status?: number;
  eventCount?: number;
  messageCount?: number;
  fifoCount?: number;
  /** The PDU bytes after the function code (diagnostics data, unknown and vendor functions). */
  data: Uint8Array;
  anomalies: string[];
}

export type ModbusErrorCode =
  | 'truncated'
  | 'empty_pdu'
  | 'invalid_protocol_id'
  | 'invalid_length'
  | 'pdu_too_large'
  | 'byte_count_mismatch'
  | 'invalid_crc';

export interface ModbusError {
  code: ModbusErrorCode;
  message: string;
}

export type ModbusPduResult = { ok: true; pdu: ModbusPdu } | { ok: false; error: ModbusError };

/** MBAP header (Modbus Messaging on TCP/IP Implementation Guide V1.0b §3.1.3). */
export interface MbapHeader {
  transactionId: number;
  protocolId: number;
  /** Bytes that follow the length field: the unit id and the PDU. */
  length: number;
  unitId: number;
}

export interface ModbusAdu {
  header: MbapHeader;
  /** The PDU bytes, function code first. */
  pdu: Uint8Array;
}

export function modbusError(code: ModbusErrorCode, message: string): { ok: false; error: ModbusError } {
  return { ok: false, error: { code, message } };
}
