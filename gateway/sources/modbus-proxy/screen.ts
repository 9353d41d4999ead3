/**
 * Enforce mode's gate, pure: may this request reach the PLC? Fail closed: a request is forwarded
 * only when it decoded, is well formed, and the policy allows it. The checks run in the order of
 * the server state diagrams of Modbus Application Protocol V1.1b3 §6 (function code supported?
 * then data value valid? then address valid?) and the refusal carries the exception code a
 * conforming server would give (§7): 0B for a unit not behind this gateway, 01 ILLEGAL FUNCTION
 * for a function the proxy cannot decode or the master may not use, 03 ILLEGAL DATA VALUE for a
 * malformed PDU of a known function, 02 ILLEGAL DATA ADDRESS for an address outside the master's
 * ranges.
 */
import { FUNCTION_NAMES, type ModbusPdu, type ModbusPduResult } from '../../../protocols/modbus/index.ts';
import type { ModbusProxySourceConfig } from './config.ts';
import { checkPolicy, matchesAddress } from './policy.ts';

export type RefusalReason =
  | 'unknown_unit'
  | 'unsupported_function'
  | 'unknown_master'
  | 'function_not_allowed'
  | 'malformed_request'
  | 'address_not_allowed'
  /** A response playbook denied this master (gateway/playbooks). */
  | 'denied_by_playbook';

export interface Refusal {
  reason: RefusalReason;
  exceptionCode: number;
  /** What is wrong with a malformed request (decoder error code or anomalies). */
  detail?: string;
}

/**
 * Anomalies that §6 answers with exception 03 (quantity out of range, a coil value other than
 * 0x0000/0xFF00, a byte count that disagrees with the quantity) and bytes beyond the function's
 * length: a PLC that parses them differently from the proxy could be made to execute what the
 * proxy never checked.
 */
const MALFORMED_ANOMALIES = new Set([
  'quantity_out_of_range',
  'read_quantity_out_of_range',
  'write_quantity_out_of_range',
  'read_device_id_code_out_of_range',
  'invalid_coil_value',
  'byte_count_mismatch',
  'trailing_bytes',
]);

/** §6: the exact PDU length of a request, function code included, when the function fixes it. */
export function expectedRequestLength(pdu: ModbusPdu): number | undefined {
  switch (pdu.function) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
      return 5;
    case 7:
    case 11:
    case 12:
    case 17:
      return 1;
    case 15:
    case 16:
      return 6 + (pdu.byteCount ?? 0);
    case 20:
    case 21:
      return 2 + (pdu.byteCount ?? 0);
    case 22:
      return 7;
    case 23:
      return 10 + (pdu.byteCount ?? 0);
    case 24:
      return 3;
    case 43:
      return pdu.meiType === 14 ? 4 : undefined;
    default:
      return undefined;
  }
}

/** Why a decoded request is malformed, or undefined when it is well formed. */
function malformation(pdu: ModbusPdu, length: number): string | undefined {
  const bad = pdu.anomalies.filter((a) => MALFORMED_ANOMALIES.has(a));
  const expected = expectedRequestLength(pdu);
  if (expected !== undefined && length !== expected) bad.push(`length_${length}_expected_${expected}`);
  return bad.length > 0 ? bad.join(',') : undefined;
}

/** A master rule that names this function code explicitly (vendor codes such as 90, UMAS). */
function explicitlyAllowed(config: Pick<ModbusProxySourceConfig, 'masters'>, ip: string, fc: number) {
  return (config.masters ?? []).some(
    (m) => matchesAddress(m.address, ip) && m.function_codes?.includes(fc) === true,
  );
}

/**
 * The refusal for a request in enforce mode, or null to forward it. `pdu` is the request's bytes
 * (function code first) and `decoded` what the decoder made of them.
 */
export function screenRequest(
  config: Pick<ModbusProxySourceConfig, 'masters' | 'unit_ids'>,
  masterIp: string,
  unitId: number,
  pdu: Uint8Array,
  decoded: ModbusPduResult,
): Refusal | null {
  const fc = pdu[0] ?? 0;
  if (config.unit_ids && !config.unit_ids.includes(unitId))
    return { reason: 'unknown_unit', exceptionCode: 0x0b };
  // A code the proxy cannot decode has no address to check: only an explicit grant lets it pass.
  // 0 and codes with the exception bit (0x80) set are never requests (§5.1, §7).
  if (FUNCTION_NAMES[fc] === undefined && !explicitlyAllowed(config, masterIp, fc))
    return { reason: 'unsupported_function', exceptionCode: 0x01 };
  const bare: ModbusPdu = {
    direction: 'request',
    functionCode: fc,
    function: fc,
    exception: false,
    data: pdu.subarray(1),
    anomalies: [],
  };
  const who = checkPolicy({ masters: config.masters }, masterIp, unitId, bare);
  if (!who.allowed) return { reason: who.reason, exceptionCode: who.exceptionCode };
  if (!decoded.ok) return { reason: 'malformed_request', exceptionCode: 0x03, detail: decoded.error.code };
  const bad = malformation(decoded.pdu, pdu.length);
  if (bad) return { reason: 'malformed_request', exceptionCode: 0x03, detail: bad };
  const verdict = checkPolicy({ masters: config.masters }, masterIp, unitId, decoded.pdu);
  return verdict.allowed ? null : { reason: verdict.reason, exceptionCode: verdict.exceptionCode };
}
