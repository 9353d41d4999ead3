/**
 * The pure half of mapping DNP3 into the inventory and the baselines: the numeric values a DNP3
 * event carries, one name per point (`analog_input[3]`, `binary_output[7]`), in the shape of
 * protocols/telemetry/values.ts's `EventValue` so the baselines' value ranges and the device
 * dashboard's charts can take them as they take Modbus registers; and a content check a capture
 * source can use to follow DNP3 on ports other than 20000. A point and its events share one name
 * (g32 analog input events update `analog_input[i]`, like g30 static reads): the value is the
 * point's, however it was reported. Readings come from responses, set points from requests.
 */
import type { PendingEvent } from '../event/schema.ts';
import { crcDnp, LINK_HEADER_BYTES } from './link.ts';

/** Object group → the point table it reports or commands (IEEE 1815-2012 Annex A). */
const POINT_TABLES: Readonly<Record<number, string>> = {
  1: 'binary_input',
  2: 'binary_input',
  3: 'double_bit_input',
  4: 'double_bit_input',
  10: 'binary_output',
  11: 'binary_output',
  20: 'counter',
  21: 'frozen_counter',
  22: 'counter',
  23: 'frozen_counter',
  30: 'analog_input',
  31: 'frozen_analog_input',
  32: 'analog_input',
  33: 'frozen_analog_input',
  40: 'analog_output',
  41: 'analog_output',
  42: 'analog_output',
  43: 'analog_output',
};
/** Groups whose values a request carries as a set point (analog output commands, g41). */
const COMMANDS = new Set([41]);

export const MAX_DNP3_VALUES = 64;

/** `{ name, value }` per point with a numeric value, analog before binary, at most MAX_DNP3_VALUES; never throws. */
export function dnp3PointValues(event: PendingEvent): Array<{ name: string; value: number }> {
  if (event.source !== 'dnp3') return [];
  const f = event.fields as Record<string, unknown>;
  const points = f.points;
  if (!Array.isArray(points)) return [];
  const request = f.direction === 'request';
  const out: Array<{ name: string; value: number; binary: boolean }> = [];
  for (const p of points as Array<Record<string, unknown>>) {
    const m = typeof p.object === 'string' ? /^g(\d+)v\d+$/.exec(p.object) : null;
    const group = m ? Number(m[1]) : NaN;
    const table = POINT_TABLES[group];
    if (!table || typeof p.value !== 'number' || !Number.isFinite(p.value) || typeof p.index !== 'number')
      continue;
    if (request !== COMMANDS.has(group)) continue;
    out.push({ name: `${table}[${p.index}]`, value: p.value, binary: group < 20 });
  }
  // Analog values and counters first: their ranges are what a baseline learns; 0/1 states last.
  const ranked = [...out.filter((v) => !v.binary), ...out.filter((v) => v.binary)];
  return ranked.slice(0, MAX_DNP3_VALUES).map(({ name, value }) => ({ name, value }));
}

/**
 * True when `b` opens with a DNP3 link header whose CRC is right: 1 chance in 65,536 for random
 * bytes that also start 0x05 0x64, so a capture source may follow such a stream as DNP3 on any port.
 */
export function looksLikeDnp3(b: Uint8Array): boolean {
  if (b.length < LINK_HEADER_BYTES || b[0] !== 0x05 || b[1] !== 0x64 || b[2]! < 5) return false;
  return crcDnp(b, 0, 8) === (b[8]! | (b[9]! << 8));
}
