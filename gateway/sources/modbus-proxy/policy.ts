/**
 * The proxy's policy check, pure: is this request, from this master, allowed by the PLC's policy?
 * Answers with the reason and the Modbus exception code to give in enforce mode (Application
 * Protocol V1.1b3 §7: 01 illegal function for a function the master may not use, 02 illegal data
 * address for an address outside its ranges).
 */
import type { ModbusPdu } from '../../../protocols/modbus/index.ts';
import type { MasterPolicy, ModbusProxySourceConfig } from './config.ts';

export type PolicyVerdict =
  | { allowed: true }
  | {
      allowed: false;
      reason: 'unknown_master' | 'function_not_allowed' | 'address_not_allowed' | 'unknown_unit';
      exceptionCode: number;
    };

const WRITE_FUNCTIONS = new Set([5, 6, 15, 16, 21, 22, 23]);

function ipv4ToInt(ip: string): number | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function matchesAddress(pattern: string, ip: string): boolean {
  const [base, bits] = pattern.split('/');
  if (bits === undefined) return base === ip;
  const a = ipv4ToInt(base!);
  const b = ipv4ToInt(ip);
  if (a === null || b === null) return false;
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return (a & mask) === (b & mask);
}

/** The address spans a request touches: [start, end] inclusive. */
export function touchedRanges(pdu: ModbusPdu): Array<{ start: number; end: number; write: boolean }> {
  const fc = pdu.function;
  const out: Array<{ start: number; end: number; write: boolean }> = [];
  const span = (start: number, n: number, write: boolean) =>
    out.push({ start, end: start + Math.max(n, 1) - 1, write });
  if (fc === 23) {
    span(pdu.readAddress ?? 0, pdu.readQuantity ?? 1, false);
    span(pdu.writeAddress ?? 0, pdu.writeQuantity ?? 1, true);
  } else if (pdu.address !== undefined) {
    span(pdu.address, pdu.quantity ?? 1, WRITE_FUNCTIONS.has(fc));
  }
  return out;
}

const inside = (ranges: MasterPolicy['address_ranges'], r: { start: number; end: number }) =>
  ranges === undefined || ranges.some((x) => r.start >= x.start && r.end <= x.end);

export function checkPolicy(
  config: Pick<ModbusProxySourceConfig, 'masters' | 'unit_ids'>,
  masterIp: string,
  unitId: number,
  pdu: ModbusPdu,
): PolicyVerdict {
  if (config.unit_ids && !config.unit_ids.includes(unitId))
    // §7: 0x0B gateway target device failed to respond, what a gateway answers for an absent unit.
    return { allowed: false, reason: 'unknown_unit', exceptionCode: 0x0b };
  if (!config.masters) return { allowed: true };
  const rules = config.masters.filter((m) => matchesAddress(m.address, masterIp));
  if (rules.length === 0) return { allowed: false, reason: 'unknown_master', exceptionCode: 0x01 };
  let reason: 'function_not_allowed' | 'address_not_allowed' = 'function_not_allowed';
  for (const rule of rules) {
    if (rule.function_codes && !rule.function_codes.includes(pdu.function)) continue;
    reason = 'address_not_allowed';
    const ok = touchedRanges(pdu).every((r) =>
      inside(r.write ? (rule.write_address_ranges ?? rule.address_ranges) : rule.address_ranges, r),
    );
    if (ok) return { allowed: true };
  }
  return { allowed: false, reason, exceptionCode: reason === 'function_not_allowed' ? 0x01 : 0x02 };
}
