/**
 * Types, limits and names of the S7comm codec: TPKT (RFC 1006 §6), COTP class 0 (ISO 8073 /
 * X.224 §13), the classic S7comm PDU (protocol id 0x32, as Wireshark's packet-s7comm.c and
 * Snap7 document it; Siemens publishes no specification) and the header of S7comm-plus (0x72).
 * Names are snake_case because they become event actions and fields.
 */

export interface S7Error {
  code: S7ErrorCode;
  message: string;
}

export type S7ErrorCode =
  | 'truncated'
  | 'invalid_tpkt'
  | 'invalid_cotp'
  | 'invalid_header'
  | 'invalid_parameter'
  | 'invalid_data'
  | 'unknown_protocol'
  | 'too_large';

export type S7Result<T> = { ok: true; value: T } | { ok: false; error: S7Error };

/** RFC 1006 §6: the TPKT length is 16 bits and counts its own 4-byte header. */
export const TPKT_HEADER_BYTES = 4;
export const MAX_TPKT_BYTES = 65_535;
/** Smallest TPKT that can hold a COTP TPDU (a DT header is 3 bytes). */
export const MIN_TPKT_BYTES = 7;
/**
 * Cap on an S7 PDU rebuilt from COTP DT segments (EOT clear) and on a userdata response rebuilt
 * from its data units: real PDUs are at most 960 bytes (S7-300/400) or 8 KiB (S7-1500 extended);
 * past this the partial PDU is dropped and reported as `too_large`.
 */
export const MAX_REASSEMBLY_BYTES = 65_536;
/** Values of one item kept in an event, in bytes (hex is twice as long). */
export const MAX_VALUE_BYTES = 64;

export type S7Direction = 'request' | 'response';

export const COTP_TYPES: Record<number, string> = {
  0x1: 'ed',
  0x2: 'ea',
  0x5: 'rj',
  0x6: 'ak',
  0x7: 'er',
  0x8: 'dr',
  0xc: 'dc',
  0xd: 'cc',
  0xe: 'cr',
  0xf: 'dt',
};

export interface CotpTpdu {
  /** The TPDU code's high nibble, as tshark's `cotp.type` (0x0e CR, 0x0d CC, 0x0f DT, 0x08 DR). */
  type: number;
  typeName: string;
  /** DT: end of TSDU; a clear bit means the S7 PDU continues in the next DT (X.224 §13.7). */
  eot?: boolean;
  tpduNumber?: number;
  dstRef?: number;
  srcRef?: number;
  /** CR/CC parameters (X.224 §13.3.4): calling/called TSAP (hex), TPDU size (bytes). */
  srcTsap?: string;
  dstTsap?: string;
  tpduSizeBytes?: number;
  /** DR: the disconnect reason. */
  reason?: number;
  /** User data after the COTP header (a view into the frame). */
  payload: Uint8Array;
}

export const ROSCTR_NAMES: Record<number, string> = {
  1: 'job',
  2: 'ack',
  3: 'ack_data',
  7: 'userdata',
};

export const FUNCTION_NAMES: Record<number, string> = {
  0x00: 'cpu_services',
  0x04: 'read_var',
  0x05: 'write_var',
  0x1a: 'request_download',
  0x1b: 'download_block',
  0x1c: 'download_ended',
  0x1d: 'start_upload',
  0x1e: 'upload',
  0x1f: 'end_upload',
  0x28: 'pi_service',
  0x29: 'plc_stop',
  0xf0: 'setup_communication',
};

/** PI services by name (the "P_PROGRAM", "_INSE" strings of function 0x28) → event action. */
export const PI_SERVICE_ACTIONS: Record<string, string> = {
  P_PROGRAM: 'plc_start',
  _INSE: 'insert_block',
  _DELE: 'delete_block',
  _MODU: 'copy_ram_to_rom',
  _GARB: 'compress_memory',
  _N_LOGOUT: 'logout',
};

export const AREA_NAMES: Record<number, string> = {
  0x03: 'system_info',
  0x05: 'system_flags',
  0x06: 'analog_inputs_200',
  0x07: 'analog_outputs_200',
  0x1c: 'counter',
  0x1d: 'timer',
  0x1e: 'iec_counter',
  0x1f: 'iec_timer',
  0x80: 'peripheral',
  0x81: 'inputs',
  0x82: 'outputs',
  0x83: 'flags',
  0x84: 'data_blocks',
  0x85: 'instance_db',
  0x86: 'local_data',
  0x87: 'previous_local_data',
};

export const USERDATA_GROUPS: Record<number, string> = {
  0x0: 'mode_transition',
  0x1: 'programmer',
  0x2: 'cyclic_data',
  0x3: 'block',
  0x4: 'cpu',
  0x5: 'security',
  0x6: 'pbc',
  0x7: 'time',
  0xf: 'nc_programming',
};

/** Userdata sub-functions per group, named as Wireshark's packet-s7comm.c names them. */
export const USERDATA_SUBFUNCTIONS: Record<number, Record<number, string>> = {
  0x1: {
    0x01: 'request_diag_data',
    0x02: 'var_table',
    0x0c: 'read_diag_data',
    0x0e: 'remove_diag_data',
    0x0f: 'erase',
    0x10: 'forces',
    0x13: 'request_diag_data_2',
  },
  0x2: { 0x01: 'cyclic_memory', 0x04: 'cyclic_unsubscribe', 0x05: 'cyclic_memory_2' },
  0x3: { 0x01: 'list_blocks', 0x02: 'list_blocks_of_type', 0x03: 'get_block_info' },
  0x4: {
    0x01: 'read_szl',
    0x02: 'message_service',
    0x03: 'diagnostic_message',
    0x05: 'alarm8_indication',
    0x06: 'notify_indication',
    0x0b: 'alarm_ack',
    0x13: 'alarm_query',
  },
  0x5: { 0x01: 'plc_password', 0x02: 'clear_password' },
  0x7: { 0x01: 'read_clock', 0x02: 'set_clock', 0x03: 'read_clock_following', 0x04: 'set_clock_2' },
};

/** Item return codes (data part of Ack_Data and userdata), as Wireshark names them. */
export const RETURN_CODE_NAMES: Record<number, string> = {
  0x00: 'reserved',
  0x01: 'hardware_fault',
  0x03: 'access_denied',
  0x05: 'address_out_of_range',
  0x06: 'data_type_not_supported',
  0x07: 'data_type_inconsistent',
  0x0a: 'object_does_not_exist',
  0xff: 'success',
};

export const ERROR_CLASS_NAMES: Record<number, string> = {
  0x00: 'no_error',
  0x81: 'application_relationship',
  0x82: 'object_definition',
  0x83: 'no_resources',
  0x84: 'service_processing',
  0x85: 'supplies',
  0x87: 'access',
  0xd2: 'ok_parameter_error',
};

export interface S7Item {
  /** 0x10 = S7ANY (area/db/address); others (DBREAD 0xb0, NCK 0x82...) are kept raw. */
  syntaxId: number;
  transportSize?: number;
  length?: number;
  db?: number;
  area?: number;
  /** Bit address as on the wire (byte * 8 + bit), 24 bits: tshark's `s7comm.param.item.address`. */
  address?: number;
}

export interface S7DataItem {
  returnCode: number;
  transportSize: number;
  /** Data of the item, hex, at most MAX_VALUE_BYTES bytes. */
  value: string;
  /** Bytes on the wire, when more than kept in `value`. */
  bytes: number;
}

export interface S7Userdata {
  /** 0x11 request, 0x12 response (Wireshark's `s7comm.param.userdata.method`). */
  method: number;
  /** 0 push, 4 request, 8 response. */
  type: number;
  group: number;
  subfunction: number;
  sequence: number;
  dataUnitRef?: number;
  /** False when more data units follow (a fragmented response). */
  lastDataUnit?: boolean;
  errorCode?: number;
  returnCode?: number;
  transportSize?: number;
  szlId?: number;
  szlIndex?: number;
  /** The data after its 4-byte header (a view). */
  data: Uint8Array;
}

export interface S7Pdu {
  protocol: 's7comm';
  rosctr: number;
  pduRef: number;
  paramLength: number;
  dataLength: number;
  errorClass?: number;
  errorCode?: number;
  /** Job / Ack_Data parameter function code. */
  function?: number;
  itemCount?: number;
  items?: S7Item[];
  data?: S7DataItem[];
  maxAmqCalling?: number;
  maxAmqCalled?: number;
  pduLength?: number;
  /** Upload/download: function status, upload id, file name and what it names. */
  status?: number;
  uploadId?: number;
  filename?: string;
  blockType?: string;
  blockNumber?: number;
  destinationFilesystem?: string;
  blockLength?: number;
  /** PI service (0x28) or PLC stop (0x29) service name and arguments. */
  piService?: string;
  piArgs?: string;
  userdata?: S7Userdata;
  anomalies: string[];
}

/** S7comm-plus (protocol id 0x72): the header only; the body is not decoded. */
export interface S7PlusPdu {
  protocol: 's7comm_plus';
  version: number;
  /** 0x31 request, 0x32 response, 0x33 notification; absent on a fragment or keep-alive. */
  opcode?: number;
  function?: number;
  sequence?: number;
  anomalies: string[];
}

export const PLUS_OPCODES: Record<number, string> = {
  0x31: 'request',
  0x32: 'response',
  0x33: 'notification',
  0x02: 'response2',
};

export const PLUS_FUNCTIONS: Record<number, string> = {
  0x04bb: 'explore',
  0x04ca: 'create_object',
  0x04d4: 'delete_object',
  0x04f2: 'set_variable',
  0x04fc: 'get_variable',
  0x0524: 'get_link',
  0x0542: 'set_multi_variables',
  0x054c: 'get_multi_variables',
  0x0556: 'begin_sequence',
  0x0560: 'end_sequence',
  0x056b: 'invoke',
  0x0586: 'get_var_substreamed',
};

export const hexOf = (b: Uint8Array, max = MAX_VALUE_BYTES): string =>
  Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, max)).toString('hex');
