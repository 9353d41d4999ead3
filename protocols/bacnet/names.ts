/**
 * The names of BACnet's codes (ANSI/ASHRAE 135-2020 Annex J, clauses 6 and 21), snake_case as
 * event actions and fields carry them; a code without a name is `unknown_<n>` (or
 * `proprietary_<n>` where the standard leaves the range to vendors).
 */
export const BVLC_FUNCTIONS: Readonly<Record<number, string>> = {
  0x00: 'bvlc_result',
  0x01: 'write_broadcast_distribution_table',
  0x02: 'read_broadcast_distribution_table',
  0x03: 'read_broadcast_distribution_table_ack',
  0x04: 'forwarded_npdu',
  0x05: 'register_foreign_device',
  0x06: 'read_foreign_device_table',
  0x07: 'read_foreign_device_table_ack',
  0x08: 'delete_foreign_device_table_entry',
  0x09: 'distribute_broadcast_to_network',
  0x0a: 'original_unicast_npdu',
  0x0b: 'original_broadcast_npdu',
  0x0c: 'secure_bvll',
};

/** Clause 21, BACnetConfirmedServiceChoice. */
export const CONFIRMED_SERVICES: readonly string[] = [
  'acknowledge_alarm',
  'confirmed_cov_notification',
  'confirmed_event_notification',
  'get_alarm_summary',
  'get_enrollment_summary',
  'subscribe_cov',
  'atomic_read_file',
  'atomic_write_file',
  'add_list_element',
  'remove_list_element',
  'create_object',
  'delete_object',
  'read_property',
  'read_property_conditional',
  'read_property_multiple',
  'write_property',
  'write_property_multiple',
  'device_communication_control',
  'confirmed_private_transfer',
  'confirmed_text_message',
  'reinitialize_device',
  'vt_open',
  'vt_close',
  'vt_data',
  'authenticate',
  'request_key',
  'read_range',
  'life_safety_operation',
  'subscribe_cov_property',
  'get_event_information',
  'subscribe_cov_property_multiple',
  'confirmed_cov_notification_multiple',
  'confirmed_audit_notification',
  'audit_log_query',
];

/** Clause 21, BACnetUnconfirmedServiceChoice. */
export const UNCONFIRMED_SERVICES: readonly string[] = [
  'i_am',
  'i_have',
  'unconfirmed_cov_notification',
  'unconfirmed_event_notification',
  'unconfirmed_private_transfer',
  'unconfirmed_text_message',
  'time_synchronization',
  'who_has',
  'who_is',
  'utc_time_synchronization',
  'write_group',
  'unconfirmed_cov_notification_multiple',
  'unconfirmed_audit_notification',
  'who_am_i',
  'you_are',
];

/** Clause 6.2.4 network layer message types. */
export const NETWORK_MESSAGES: readonly string[] = [
  'who_is_router_to_network',
  'i_am_router_to_network',
  'i_could_be_router_to_network',
  'reject_message_to_network',
  'router_busy_to_network',
  'router_available_to_network',
  'initialize_routing_table',
  'initialize_routing_table_ack',
  'establish_connection_to_network',
  'disconnect_connection_to_network',
  'challenge_request',
  'security_payload',
  'security_response',
  'request_key_update',
  'update_key_set',
  'update_distribution_key',
  'request_master_key',
  'set_master_key',
  'what_is_network_number',
  'network_number_is',
];

/** Clause 21 BACnetObjectType, the standard types up to 30 (others by number). */
export const OBJECT_TYPES: readonly string[] = [
  'analog_input',
  'analog_output',
  'analog_value',
  'binary_input',
  'binary_output',
  'binary_value',
  'calendar',
  'command',
  'device',
  'event_enrollment',
  'file',
  'group',
  'loop',
  'multi_state_input',
  'multi_state_output',
  'notification_class',
  'program',
  'schedule',
  'averaging',
  'multi_state_value',
  'trend_log',
  'life_safety_point',
  'life_safety_zone',
  'accumulator',
  'pulse_converter',
  'event_log',
  'global_group',
  'trend_log_multiple',
  'load_control',
  'structured_view',
  'access_door',
];

/** Clause 21 BACnetPropertyIdentifier: the ones a monitor reports by name. */
export const PROPERTY_NAMES: Readonly<Record<number, string>> = {
  8: 'all',
  10: 'apdu_segment_timeout',
  11: 'apdu_timeout',
  12: 'application_software_version',
  13: 'archive',
  24: 'daylight_savings_status',
  28: 'description',
  30: 'device_address_binding',
  36: 'event_state',
  41: 'file_access_method',
  42: 'file_size',
  43: 'file_type',
  44: 'firmware_revision',
  56: 'local_date',
  57: 'local_time',
  58: 'location',
  62: 'max_apdu_length_accepted',
  63: 'max_info_frames',
  64: 'max_master',
  70: 'model_name',
  71: 'modification_date',
  73: 'number_of_apdu_retries',
  75: 'object_identifier',
  76: 'object_list',
  77: 'object_name',
  79: 'object_type',
  80: 'optional',
  81: 'out_of_service',
  84: 'polarity',
  85: 'present_value',
  87: 'priority_array',
  95: 'protocol_conformance_class',
  96: 'protocol_object_types_supported',
  97: 'protocol_services_supported',
  98: 'protocol_version',
  99: 'read_only',
  103: 'reliability',
  104: 'relinquish_default',
  105: 'required',
  107: 'segmentation_supported',
  111: 'status_flags',
  112: 'system_status',
  116: 'time_synchronization_recipients',
  117: 'units',
  119: 'utc_offset',
  120: 'vendor_identifier',
  121: 'vendor_name',
  139: 'protocol_revision',
  155: 'database_revision',
  371: 'property_list',
};

export const ERROR_CLASSES: readonly string[] = [
  'device',
  'object',
  'property',
  'resources',
  'security',
  'services',
  'vt',
  'communication',
];

/** Clause 21 BACnetErrorCode, the codes below 45. */
export const ERROR_CODES: Readonly<Record<number, string>> = {
  0: 'other',
  2: 'configuration_in_progress',
  3: 'device_busy',
  4: 'dynamic_creation_not_supported',
  5: 'file_access_denied',
  7: 'inconsistent_parameters',
  8: 'inconsistent_selection_criterion',
  9: 'invalid_data_type',
  10: 'invalid_file_access_method',
  11: 'invalid_file_start_position',
  13: 'invalid_parameter_data_type',
  14: 'invalid_time_stamp',
  16: 'missing_required_parameter',
  17: 'no_objects_of_specified_type',
  18: 'no_space_for_object',
  19: 'no_space_to_add_list_element',
  20: 'no_space_to_write_property',
  21: 'no_vt_sessions_available',
  22: 'property_is_not_a_list',
  23: 'object_deletion_not_permitted',
  24: 'object_identifier_already_exists',
  25: 'operational_problem',
  26: 'password_failure',
  27: 'read_access_denied',
  29: 'service_request_denied',
  30: 'timeout',
  31: 'unknown_object',
  32: 'unknown_property',
  34: 'unknown_vt_class',
  35: 'unknown_vt_session',
  36: 'unsupported_object_type',
  37: 'value_out_of_range',
  38: 'vt_session_already_closed',
  39: 'vt_session_termination_failure',
  40: 'write_access_denied',
  41: 'character_set_not_supported',
  42: 'invalid_array_index',
  44: 'not_cov_property',
};

export const REJECT_REASONS: readonly string[] = [
  'other',
  'buffer_overflow',
  'inconsistent_parameters',
  'invalid_parameter_data_type',
  'invalid_tag',
  'missing_required_parameter',
  'parameter_out_of_range',
  'too_many_arguments',
  'undefined_enumeration',
  'unrecognized_service',
];

export const ABORT_REASONS: readonly string[] = [
  'other',
  'buffer_overflow',
  'invalid_apdu_in_this_state',
  'preempted_by_higher_priority_task',
  'segmentation_not_supported',
  'security_error',
  'insufficient_security',
  'window_size_out_of_range',
  'application_exceeded_reply_time',
  'out_of_resources',
  'tsm_timeout',
  'apdu_too_long',
];

/** Clause 16.4.1.1.1 BACnetReinitializedStateOfDevice. */
export const REINITIALIZE_STATES: readonly string[] = [
  'coldstart',
  'warmstart',
  'start_backup',
  'end_backup',
  'start_restore',
  'end_restore',
  'abort_restore',
  'activate_changes',
];

/** Clause 16.1.1.1.2 enable-disable. */
export const ENABLE_DISABLE: readonly string[] = ['enable', 'disable', 'disable_initiation'];

export const SEGMENTATION: readonly string[] = [
  'segmented_both',
  'segmented_transmit',
  'segmented_receive',
  'no_segmentation',
];

/** A name from a table, or `unknown_<n>`. */
export function nameOf(table: readonly string[] | Readonly<Record<number, string>>, n: number): string {
  return (table as Record<number, string | undefined>)[n] ?? `unknown_${n}`;
}

export function objectTypeName(type: number): string {
  return OBJECT_TYPES[type] ?? (type >= 128 ? `proprietary_${type}` : `unknown_${type}`);
}

export function propertyName(id: number): string {
  return PROPERTY_NAMES[id] ?? (id >= 512 ? `proprietary_${id}` : `property_${id}`);
}

/** The service of an APDU by its PDU type and choice, `unknown_<n>` for a code without a name. */
export function serviceName(type: number, choice: number): string {
  if (type === 1) return nameOf(UNCONFIRMED_SERVICES, choice);
  return nameOf(CONFIRMED_SERVICES, choice);
}
