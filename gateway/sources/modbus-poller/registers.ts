/**
 * The poller's register map, pure: which reads cover the configured points (adjacent points of
 * one table are joined into one request, within the per-request limits of the Modbus Application
 * Protocol V1.1b3: 125 registers for FC 3/4 §6.3–§6.4, 2000 bits for FC 1/2 §6.1–§6.2), and how
 * the words or bits a read returned become engineering values (data type, byte and word order,
 * scale and offset). No I/O, no clock.
 */
import type { PointConfig, PointTable } from './config.ts';

/** §6.1/§6.2: quantity of coils or inputs 1..2000; §6.3/§6.4: quantity of registers 1..125. */
export const MAX_READ_BITS = 2000;
export const MAX_READ_REGISTERS = 125;

export const TABLE_FUNCTION: Readonly<Record<PointTable, 1 | 2 | 3 | 4>> = {
  coil: 1,
  discrete_input: 2,
  holding: 3,
  input: 4,
};

export interface ReadBlock {
  table: PointTable;
  function: 1 | 2 | 3 | 4;
  address: number;
  quantity: number;
  points: PointConfig[];
}

export type PointValue = number | boolean;

export function tableOf(point: PointConfig): PointTable {
  if (point.type === 'coil') return 'coil';
  return point.table ?? 'holding';
}

/** Registers (or bits) a point occupies. */
export function widthOf(point: PointConfig): number {
  return point.type === 'int32' || point.type === 'uint32' || point.type === 'float32' ? 2 : 1;
}

const isBitTable = (t: PointTable) => t === 'coil' || t === 'discrete_input';

/** Groups points into as few reads as the limits and `maxGap` allow, in address order. */
export function planReads(points: readonly PointConfig[], maxGap: number): ReadBlock[] {
  const blocks: ReadBlock[] = [];
  const byTable = new Map<PointTable, PointConfig[]>();
  for (const p of points) {
    const t = tableOf(p);
    byTable.set(t, [...(byTable.get(t) ?? []), p]);
  }
  for (const [table, list] of byTable) {
    const limit = isBitTable(table) ? MAX_READ_BITS : MAX_READ_REGISTERS;
    const sorted = [...list].sort((a, b) => a.address - b.address);
    let current: ReadBlock | undefined;
    for (const p of sorted) {
      const end = p.address + widthOf(p); // exclusive
      if (
        current &&
        p.address <= current.address + current.quantity + maxGap &&
        Math.max(end, current.address + current.quantity) - current.address <= limit
      ) {
        current.quantity = Math.max(end, current.address + current.quantity) - current.address;
        current.points.push(p);
        continue;
      }
      current = {
        table,
        function: TABLE_FUNCTION[table],
        address: p.address,
        quantity: end - p.address,
        points: [p],
      };
      blocks.push(current);
    }
  }
  return blocks;
}

/** Rounds away binary noise: 3 × 0.1 is reported as 0.3, a float32 with its 7 significant digits. */
function tidy(value: number, digits: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(digits)) : value;
}

/** The two bytes of a register as they should be read (big-endian unless byte_order is little). */
function registerBytes(word: number, byteOrder: 'big' | 'little'): [number, number] {
  const hi = (word >> 8) & 0xff;
  const lo = word & 0xff;
  return byteOrder === 'big' ? [hi, lo] : [lo, hi];
}

/**
 * Decodes one point from the values of the read that covered it (`data` starts at
 * `blockAddress`): registers for holding/input tables, 0/1 for bit tables. Undefined when the
 * read returned fewer values than the point needs.
 */
export function decodePoint(
  point: PointConfig,
  data: readonly number[],
  blockAddress: number,
): PointValue | undefined {
  const at = point.address - blockAddress;
  const width = widthOf(point);
  if (at < 0 || at + width > data.length) return undefined;
  const table = tableOf(point);
  if (isBitTable(table)) return data[at] !== 0;
  if (point.type === 'bool' || point.type === 'coil') {
    const word = data[at]!;
    return point.bit === undefined ? word !== 0 : ((word >> point.bit) & 1) === 1;
  }
  const bytes: number[] = [];
  const words = width === 2 ? [data[at]!, data[at + 1]!] : [data[at]!];
  if (point.word_order === 'little') words.reverse();
  for (const w of words) bytes.push(...registerBytes(w, point.byte_order));
  const view = new DataView(Uint8Array.from(bytes).buffer);
  let raw: number;
  switch (point.type) {
    case 'int16':
      raw = view.getInt16(0);
      break;
    case 'uint16':
      raw = view.getUint16(0);
      break;
    case 'int32':
      raw = view.getInt32(0);
      break;
    case 'uint32':
      raw = view.getUint32(0);
      break;
    case 'float32':
      raw = tidy(view.getFloat32(0), 7);
      break;
  }
  if (point.scale === 1 && point.offset === 0) return raw;
  return tidy(raw * point.scale + point.offset, 12);
}

/** A bit table read gives booleans; the codec's 0/1 form is used for both kinds of table. */
export function asNumbers(values: ReadonlyArray<number | boolean>): number[] {
  return values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
}
