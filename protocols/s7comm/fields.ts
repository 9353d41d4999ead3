/**
 * The event fields of a decoded S7 PDU (protocols/s7comm/EVENTS.md, "Fields"): snake_case, names
 * for codes (areas, return codes, error classes, userdata groups), hex where tshark and ICSNPP
 * show hex (SZL ids, error codes), absent values omitted, so a rule can match
 * `fields.areas: data_blocks` or `fields.szl_id: '0x001c'`.
 */
import type { S7Identity } from './szl.ts';
import {
  AREA_NAMES,
  ERROR_CLASS_NAMES,
  FUNCTION_NAMES,
  hexOf,
  PLUS_FUNCTIONS,
  PLUS_OPCODES,
  RETURN_CODE_NAMES,
  ROSCTR_NAMES,
  type S7Pdu,
  type S7PlusPdu,
  USERDATA_GROUPS,
  USERDATA_SUBFUNCTIONS,
} from './types.ts';

export const hex2 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
export const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

/** Identity fields of SZL 0x0011/0x001c, snake_case. */
export function identityFields(id: S7Identity): Record<string, string> {
  const f: Record<string, string> = {};
  if (id.orderNumber !== undefined) f.order_number = id.orderNumber;
  if (id.firmwareVersion !== undefined) f.firmware_version = id.firmwareVersion;
  if (id.stationName !== undefined) f.station_name = id.stationName;
  if (id.moduleName !== undefined) f.module_name = id.moduleName;
  if (id.plantId !== undefined) f.plant_id = id.plantId;
  if (id.serialNumber !== undefined) f.serial_number = id.serialNumber;
  if (id.moduleType !== undefined) f.module_type = id.moduleType;
  return f;
}

/** The classic PDU's content as event fields (snake_case, absent values omitted). */
export function s7PduFields(pdu: S7Pdu, f: Record<string, unknown>): void {
  f.rosctr = pdu.rosctr;
  f.rosctr_name = ROSCTR_NAMES[pdu.rosctr] ?? `unknown_${pdu.rosctr}`;
  f.pdu_ref = pdu.pduRef;
  if (pdu.function !== undefined) {
    f.function_code = pdu.function;
    f.function = FUNCTION_NAMES[pdu.function] ?? `unknown_${hex2(pdu.function)}`;
  }
  if (pdu.errorClass !== undefined) {
    f.error_class = pdu.errorClass;
    f.error_code = pdu.errorCode;
    if (pdu.errorClass !== 0)
      f.error = ERROR_CLASS_NAMES[pdu.errorClass] ?? `unknown_${hex2(pdu.errorClass)}`;
  }
  if (pdu.itemCount !== undefined) f.item_count = pdu.itemCount;
  if (pdu.items) {
    f.items = pdu.items.map((i) => {
      const o: Record<string, unknown> = { syntax_id: i.syntaxId };
      if (i.area !== undefined) {
        o.area = AREA_NAMES[i.area] ?? `unknown_${hex2(i.area)}`;
        o.db = i.db;
        o.byte_address = i.address! >> 3;
        o.bit_address = i.address! & 7;
        o.transport_size = i.transportSize;
        o.length = i.length;
      }
      return o;
    });
    // Flat lists too, so a rule can match `fields.areas: data_blocks` or `fields.dbs: 1`.
    f.areas = [
      ...new Set(pdu.items.map((i) => (i.area === undefined ? 'other' : (AREA_NAMES[i.area] ?? 'unknown')))),
    ];
    const dbs = pdu.items.filter((i) => i.area === 0x84).map((i) => i.db!);
    if (dbs.length > 0) f.dbs = [...new Set(dbs)];
  }
  if (pdu.data) {
    // A write request's items carry data, not outcomes: their return code is always 0.
    if (pdu.rosctr !== 1)
      f.return_codes = pdu.data.map((d) => RETURN_CODE_NAMES[d.returnCode] ?? hex2(d.returnCode));
    if (pdu.data.some((d) => d.bytes > 0)) f.values = pdu.data.map((d) => d.value);
  }
  if (pdu.pduLength !== undefined) {
    f.pdu_length = pdu.pduLength;
    f.max_amq_calling = pdu.maxAmqCalling;
    f.max_amq_called = pdu.maxAmqCalled;
  }
  if (pdu.status !== undefined) f.status = pdu.status;
  if (pdu.uploadId !== undefined) f.upload_id = pdu.uploadId;
  if (pdu.filename !== undefined) f.filename = pdu.filename;
  if (pdu.blockType !== undefined) f.block_type = pdu.blockType;
  if (pdu.blockNumber !== undefined) f.block_number = pdu.blockNumber;
  if (pdu.destinationFilesystem !== undefined) f.destination_filesystem = pdu.destinationFilesystem;
  if (pdu.blockLength !== undefined) f.block_length = pdu.blockLength;
  if (pdu.piService !== undefined) f.pi_service = pdu.piService;
  if (pdu.piArgs !== undefined && pdu.piArgs !== '') f.pi_args = pdu.piArgs;
  const u = pdu.userdata;
  if (u) {
    f.userdata_type =
      u.type === 4 ? 'request' : u.type === 8 ? 'response' : u.type === 0 ? 'push' : `unknown_${u.type}`;
    f.group_code = u.group;
    f.group = USERDATA_GROUPS[u.group] ?? `unknown_${u.group}`;
    f.subfunction_code = u.subfunction;
    f.subfunction = USERDATA_SUBFUNCTIONS[u.group]?.[u.subfunction] ?? `unknown_${hex2(u.subfunction)}`;
    f.sequence = u.sequence;
    if (u.dataUnitRef !== undefined) {
      f.data_unit_ref = u.dataUnitRef;
      f.last_data_unit = u.lastDataUnit;
      if (u.errorCode) {
        f.userdata_error_code = hex4(u.errorCode);
      }
    }
    if (u.returnCode !== undefined) f.return_code = RETURN_CODE_NAMES[u.returnCode] ?? hex2(u.returnCode);
    if (u.szlId !== undefined) {
      f.szl_id = hex4(u.szlId);
      f.szl_index = hex4(u.szlIndex ?? 0);
    }
    if (u.group === 7 && u.data.length >= 10) f.data = hexOf(u.data, 10);
  }
}

export function plusFields(pdu: S7PlusPdu, f: Record<string, unknown>): void {
  f.plus_version = pdu.version;
  if (pdu.opcode !== undefined) {
    f.opcode = pdu.opcode;
    f.opcode_name = PLUS_OPCODES[pdu.opcode] ?? `unknown_${hex2(pdu.opcode)}`;
  }
  if (pdu.function !== undefined) {
    f.function_code = pdu.function;
    f.function = PLUS_FUNCTIONS[pdu.function] ?? `unknown_${hex4(pdu.function)}`;
  }
  if (pdu.sequence !== undefined) f.sequence = pdu.sequence;
}
