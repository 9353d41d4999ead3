/**
 * Names for the numbers EtherNet/IP and CIP put on the wire, as event fields and action suffixes
 * (snake_case): encapsulation commands and statuses (CIP Vol. 2 §2-3.2, §2-3.3), CPF item types
 * (Vol. 2 §2-6.1), common services (Vol. 1 Appendix A-3), the object-specific services rules care
 * about (Connection Manager Vol. 1 §3-5.5, Logix tag services), object classes (Vol. 1 §5, and
 * Rockwell's symbol/template classes), general status codes (Vol. 1 Appendix B-1), device types
 * (Vol. 1 §6-7) and the one vendor the traces name. Unknown numbers get a `<kind>_0x..` name.
 */
import { hex8 } from './types.ts';

export const COMMAND_NAMES: Readonly<Record<number, string>> = {
  0x0000: 'nop',
  0x0004: 'list_services',
  0x0063: 'list_identity',
  0x0064: 'list_interfaces',
  0x0065: 'register_session',
  0x0066: 'unregister_session',
  0x006f: 'send_rr_data',
  0x0070: 'send_unit_data',
  0x0072: 'indicate_status',
  0x0073: 'cancel',
};

export const ENCAP_STATUS_NAMES: Readonly<Record<number, string>> = {
  0x0000: 'success',
  0x0001: 'invalid_or_unsupported_command',
  0x0002: 'insufficient_memory',
  0x0003: 'incorrect_data',
  0x0064: 'invalid_session_handle',
  0x0065: 'invalid_length',
  0x0069: 'unsupported_protocol_revision',
};

export const CPF_ITEM = {
  NULL_ADDRESS: 0x0000,
  LIST_IDENTITY: 0x000c,
  CONNECTED_ADDRESS: 0x00a1,
  CONNECTED_DATA: 0x00b1,
  UNCONNECTED_DATA: 0x00b2,
  LIST_SERVICES: 0x0100,
  SOCKADDR_OT: 0x8000,
  SOCKADDR_TO: 0x8001,
  SEQUENCED_ADDRESS: 0x8002,
} as const;

export const SERVICE_NAMES: Readonly<Record<number, string>> = {
  0x01: 'get_attributes_all',
  0x02: 'set_attributes_all',
  0x03: 'get_attribute_list',
  0x04: 'set_attribute_list',
  0x05: 'reset',
  0x06: 'start',
  0x07: 'stop',
  0x08: 'create',
  0x09: 'delete',
  0x0a: 'multiple_service_packet',
  0x0d: 'apply_attributes',
  0x0e: 'get_attribute_single',
  0x10: 'set_attribute_single',
  0x11: 'find_next_object_instance',
  0x14: 'error_response',
  0x15: 'restore',
  0x16: 'save',
  0x17: 'nop',
  0x18: 'get_member',
  0x19: 'set_member',
  0x1a: 'insert_member',
  0x1b: 'remove_member',
  0x1c: 'group_sync',
};

/** Connection Manager (class 0x06) services, Vol. 1 §3-5.5. */
export const CONNECTION_MANAGER_SERVICES: Readonly<Record<number, string>> = {
  0x4e: 'forward_close',
  0x52: 'unconnected_send',
  0x54: 'forward_open',
  0x56: 'get_connection_data',
  0x57: 'search_connection_data',
  0x5a: 'get_connection_owner',
  0x5b: 'large_forward_open',
};

/** Logix controller tag services (symbolic paths, Rockwell publication 1756-PM020). */
export const LOGIX_SERVICES: Readonly<Record<number, string>> = {
  0x4c: 'read_tag',
  0x4d: 'write_tag',
  0x4e: 'read_modify_write_tag',
  0x52: 'read_tag_fragmented',
  0x53: 'write_tag_fragmented',
  0x55: 'get_instance_attribute_list',
};

export const CLASS_NAMES: Readonly<Record<number, string>> = {
  0x01: 'identity',
  0x02: 'message_router',
  0x03: 'devicenet',
  0x04: 'assembly',
  0x05: 'connection',
  0x06: 'connection_manager',
  0x07: 'register',
  0x08: 'discrete_input_point',
  0x09: 'discrete_output_point',
  0x0a: 'analog_input_point',
  0x0b: 'analog_output_point',
  0x0f: 'parameter',
  0x10: 'parameter_group',
  0x12: 'group',
  0x29: 'control_supervisor',
  0x2a: 'ac_dc_drive',
  0x2c: 'overload',
  0x37: 'file',
  0x43: 'time_sync',
  0x44: 'modbus',
  0x47: 'device_level_ring',
  0x48: 'qos',
  0x4d: 'safety_supervisor',
  0x6b: 'symbol',
  0x6c: 'template',
  0x8e: 'wall_clock_time',
  0xa1: 'non_volatile_storage',
  0xf0: 'controlnet',
  0xf4: 'port',
  0xf5: 'tcp_ip_interface',
  0xf6: 'ethernet_link',
};

export const GENERAL_STATUS_NAMES: Readonly<Record<number, string>> = {
  0x00: 'success',
  0x01: 'connection_failure',
  0x02: 'resource_unavailable',
  0x03: 'invalid_parameter_value',
  0x04: 'path_segment_error',
  0x05: 'path_destination_unknown',
  0x06: 'partial_transfer',
  0x07: 'connection_lost',
  0x08: 'service_not_supported',
  0x09: 'invalid_attribute_value',
  0x0a: 'attribute_list_error',
  0x0b: 'already_in_requested_mode',
  0x0c: 'object_state_conflict',
  0x0d: 'object_already_exists',
  0x0e: 'attribute_not_settable',
  0x0f: 'privilege_violation',
  0x10: 'device_state_conflict',
  0x11: 'reply_data_too_large',
  0x13: 'not_enough_data',
  0x14: 'attribute_not_supported',
  0x15: 'too_much_data',
  0x16: 'object_does_not_exist',
  0x1e: 'embedded_service_error',
  0x20: 'invalid_parameter',
  0x26: 'invalid_path_size',
};

export const DEVICE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x00: 'generic_device',
  0x02: 'ac_drive',
  0x03: 'motor_overload',
  0x07: 'general_purpose_discrete_io',
  0x0c: 'communications_adapter',
  0x0e: 'programmable_logic_controller',
  0x10: 'position_controller',
  0x13: 'dc_drive',
  0x16: 'motor_starter',
  0x18: 'human_machine_interface',
  0x22: 'encoder',
  0x23: 'safety_discrete_io',
  0x25: 'cip_motion_drive',
  0x2b: 'generic_device_keyable',
  0x32: 'managed_ethernet_switch',
};

export const VENDOR_NAMES: Readonly<Record<number, string>> = {
  1: 'Rockwell Automation/Allen-Bradley',
};

export const commandName = (c: number) => COMMAND_NAMES[c] ?? `command_0x${c.toString(16).padStart(4, '0')}`;
export const className = (c: number) => CLASS_NAMES[c] ?? `class_${hex8(c)}`;
export const generalStatusName = (s: number) => GENERAL_STATUS_NAMES[s] ?? `status_${hex8(s)}`;

/**
 * Services 0x4B–0x63 are object-specific (Vol. 1 §4-9.8): their name depends on the object they
 * are sent to. Connection Manager services on class 6; Logix tag services on symbolic paths and
 * the symbol class; anything else keeps its number.
 */
export function serviceName(service: number, classId?: number, symbolic = false): string {
  const common = SERVICE_NAMES[service];
  if (common) return common;
  if (classId === 0x06 && CONNECTION_MANAGER_SERVICES[service]) return CONNECTION_MANAGER_SERVICES[service];
  if ((symbolic || classId === 0x6b) && LOGIX_SERVICES[service]) return LOGIX_SERVICES[service];
  return `service_${hex8(service)}`;
}
