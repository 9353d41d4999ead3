/**
 * DNP3 (IEEE 1815-2012) names and shapes shared by the codec's layers: link-layer frames (§9),
 * transport segments (§8), application fragments with their object headers (§4.2, §4.3), the
 * typed errors every layer returns instead of throwing, and the caps that bound what one peer can
 * make the decoder hold.
 */

/** Caps on attacker-controlled sizes (documented in protocols/event/SPEC.md, DNP3, "Limits"). */
export const DNP3_LIMITS = {
  /** A reassembled application fragment larger than this is dropped (IEEE 1815 §8.2.2 suggests 2,048). */
  MAX_FRAGMENT_BYTES: 16_384,
  /** Points (indexes and values) copied into a decoded object header; the count is still exact. */
  MAX_POINTS_PER_HEADER: 64,
  /** Points an event lists over all its object headers (each header gives at most the above). */
  MAX_EVENT_POINTS: 256,
  /** Object headers decoded per fragment; beyond it the rest is reported as `too_many_objects`. */
  MAX_OBJECT_HEADERS: 256,
  /** Half-built fragments kept per session (one per link source/destination pair and direction). */
  MAX_REASSEMBLIES: 64,
  /** Requests waiting for their response per session. */
  MAX_OPEN_REQUESTS: 64,
} as const;

export type Dnp3ErrorCode =
  | 'bad_start'
  | 'bad_length'
  | 'header_crc'
  | 'data_crc'
  | 'truncated'
  | 'empty_fragment'
  | 'fragment_too_large'
  | 'transport_sequence'
  | 'transport_orphan'
  | 'bad_qualifier'
  | 'bad_range'
  | 'unknown_object_size'
  | 'too_many_objects';

export interface Dnp3Error {
  code: Dnp3ErrorCode;
  message: string;
}

export const dnp3Error = (code: Dnp3ErrorCode, message: string): Dnp3Error => ({ code, message });

/** Link-layer header (IEEE 1815 §9.2.4): control byte split into its bits, and the two addresses. */
export interface LinkHeader {
  /** LENGTH octet: control, destination, source and user data, CRCs excluded (5–255). */
  length: number;
  /** DIR: 1 when the frame comes from the master (§9.2.4.1.3.1). */
  dir: boolean;
  /** PRM: 1 for a primary (initiating) frame. */
  prm: boolean;
  fcb: boolean;
  fcv: boolean;
  /** Link function code (§9.2.4.1.3.5 primary, §9.2.4.1.3.6 secondary). */
  function: number;
  destination: number;
  source: number;
}

export interface LinkFrame {
  header: LinkHeader;
  /** User data with the CRCs removed (empty for link-only frames such as Request Link Status). */
  data: Uint8Array;
}

/** Transport header (§8.2.1): one octet in front of every segment's user data. */
export interface TransportHeader {
  fin: boolean;
  fir: boolean;
  seq: number;
}

/** Application control octet (§4.2.2.4). */
export interface AppControl {
  fir: boolean;
  fin: boolean;
  con: boolean;
  uns: boolean;
  seq: number;
}

/** One decoded point of an object header: its index, and a value where the object carries one. */
export interface Dnp3Point {
  index: number;
  value?: number | boolean | string;
  /** Quality flags octet (§A: ONLINE 0x01, RESTART 0x02, COMM_LOST 0x04, ...). */
  flags?: number;
  /** Control Relay Output Block (g12v1/v2, §A.8): the operation asked for. */
  crob?: {
    opType: number;
    tcc: number;
    clear: boolean;
    queue: boolean;
    count: number;
    onTimeMs: number;
    offTimeMs: number;
    status: number;
  };
}

/** An object header (§4.3.1) and what its range covers. */
export interface Dnp3ObjectHeader {
  group: number;
  variation: number;
  qualifier: number;
  /** Object prefix code (qualifier bits 6–4) and range specifier code (bits 3–0). */
  prefixCode: number;
  rangeCode: number;
  /** Start/stop for range codes 0–5. */
  start?: number;
  stop?: number;
  /** Number of objects the header announces (absent for range code 6, "all objects"). */
  count?: number;
  /** The first `MAX_POINTS_PER_HEADER` points (indexes, values where present). */
  points: Dnp3Point[];
}

export type Dnp3Direction = 'request' | 'response';

/** An application fragment (§4.2): request or (unsolicited) response, its objects, and its IIN. */
export interface Dnp3Apdu {
  direction: Dnp3Direction;
  control: AppControl;
  function: number;
  /** Internal indications (§4.2.2.6): IIN1 × 256 + IIN2, as tshark and Zeek print them. */
  iin?: number;
  objects: Dnp3ObjectHeader[];
  /** The objects could not all be walked (e.g. a group whose size we do not know): what stopped us. */
  objectError?: Dnp3Error;
  /** Fragment length in bytes. */
  length: number;
}

export type Dnp3ApduResult = { ok: true; apdu: Dnp3Apdu } | { ok: false; error: Dnp3Error };

/** Application function codes (§4.2.2.5, Table 4-1) as event action suffixes. */
export const FUNCTION_NAMES: Readonly<Record<number, string>> = {
  0: 'confirm',
  1: 'read',
  2: 'write',
  3: 'select',
  4: 'operate',
  5: 'direct_operate',
  6: 'direct_operate_nr',
  7: 'immediate_freeze',
  8: 'immediate_freeze_nr',
  9: 'freeze_clear',
  10: 'freeze_clear_nr',
  11: 'freeze_at_time',
  12: 'freeze_at_time_nr',
  13: 'cold_restart',
  14: 'warm_restart',
  15: 'initialize_data',
  16: 'initialize_application',
  17: 'start_application',
  18: 'stop_application',
  19: 'save_configuration',
  20: 'enable_unsolicited',
  21: 'disable_unsolicited',
  22: 'assign_class',
  23: 'delay_measure',
  24: 'record_current_time',
  25: 'open_file',
  26: 'close_file',
  27: 'delete_file',
  28: 'get_file_info',
  29: 'authenticate_file',
  30: 'abort_file',
  31: 'activate_config',
  32: 'authenticate_request',
  33: 'authenticate_request_no_ack',
  129: 'response',
  130: 'unsolicited_response',
  131: 'authenticate_response',
};

export const functionName = (fc: number): string => FUNCTION_NAMES[fc] ?? `unknown_${fc}`;

/** Link function codes (§9.2.4.1.3.5–6), primary (PRM=1) then secondary (PRM=0). */
export const LINK_PRIMARY_NAMES: Readonly<Record<number, string>> = {
  0: 'reset_link_states',
  2: 'test_link_states',
  3: 'confirmed_user_data',
  4: 'unconfirmed_user_data',
  9: 'request_link_status',
};
export const LINK_SECONDARY_NAMES: Readonly<Record<number, string>> = {
  0: 'ack',
  1: 'nack',
  11: 'link_status',
  15: 'not_supported',
};

/** IIN bits (§4.2.2.6.2), bit 0 of IIN1 first, then IIN2; the value is IIN1 × 256 + IIN2. */
export const IIN_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x0100, 'broadcast'],
  [0x0200, 'class_1_events'],
  [0x0400, 'class_2_events'],
  [0x0800, 'class_3_events'],
  [0x1000, 'need_time'],
  [0x2000, 'local_control'],
  [0x4000, 'device_trouble'],
  [0x8000, 'device_restart'],
  [0x0001, 'no_func_code_support'],
  [0x0002, 'object_unknown'],
  [0x0004, 'parameter_error'],
  [0x0008, 'event_buffer_overflow'],
  [0x0010, 'already_executing'],
  [0x0020, 'config_corrupt'],
];

export const iinFlags = (iin: number): string[] => IIN_NAMES.filter(([bit]) => iin & bit).map(([, n]) => n);

/** Object groups by name (§A), for messages and event fields. */
export const GROUP_NAMES: Readonly<Record<number, string>> = {
  0: 'device_attributes',
  1: 'binary_input',
  2: 'binary_input_event',
  3: 'double_bit_binary_input',
  4: 'double_bit_binary_input_event',
  10: 'binary_output',
  11: 'binary_output_event',
  12: 'binary_command',
  13: 'binary_command_event',
  20: 'counter',
  21: 'frozen_counter',
  22: 'counter_event',
  23: 'frozen_counter_event',
  30: 'analog_input',
  31: 'frozen_analog_input',
  32: 'analog_input_event',
  33: 'frozen_analog_input_event',
  34: 'analog_input_deadband',
  40: 'analog_output_status',
  41: 'analog_output',
  42: 'analog_output_event',
  43: 'analog_command_event',
  50: 'time_and_date',
  51: 'time_and_date_cto',
  52: 'time_delay',
  60: 'class_data',
  70: 'file_control',
  80: 'internal_indications',
  110: 'octet_string',
  111: 'octet_string_event',
  120: 'authentication',
};

/** CROB operation types and trip-close codes (§A.8.1, Table A-9). */
export const CROB_OP_NAMES: Readonly<Record<number, string>> = {
  0: 'nul',
  1: 'pulse_on',
  2: 'pulse_off',
  3: 'latch_on',
  4: 'latch_off',
};
export const CROB_TCC_NAMES: Readonly<Record<number, string>> = { 0: 'nul', 1: 'close', 2: 'trip' };
