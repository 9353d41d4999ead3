/**
 * Sizes and value layouts of the DNP3 objects (IEEE 1815-2012 Annex A) that the decoder can walk
 * over: without its size an object's data cannot be skipped, so the headers after it are lost.
 * Covers binary, double-bit, counters, analog inputs and outputs (static, frozen, events,
 * commands), CROB, time, delay, IIN and octet strings; anything else stops the walk with a typed
 * `unknown_object_size` (unless the qualifier carries a size prefix).
 */
import type { Dnp3Point } from './types.ts';

export interface ObjectSpec {
  /** Octets per object, or bits per object when `bits` is set (packed, §A.2 "packed format"). */
  size: number;
  bits?: boolean;
  read?: (b: Uint8Array, at: number, point: Dnp3Point) => void;
}

type NumType = 'i32' | 'i16' | 'u32' | 'u16' | 'f32' | 'f64' | 'u48';
const WIDTH: Record<NumType, number> = { i32: 4, i16: 2, u32: 4, u16: 2, f32: 4, f64: 8, u48: 6 };

// Scratch buffers for floats: a DataView per value costs more than the decode itself. DNP3 is
// little-endian (IEEE 1815 §4.3.2.4), and so are the hosts we run on (x86-64, ARM Linux).
const F64 = new Float64Array(1);
const F32 = new Float32Array(F64.buffer, 0, 1);
const SCRATCH = new Uint8Array(F64.buffer);

function num(b: Uint8Array, at: number, t: NumType): number {
  switch (t) {
    case 'i16':
      return ((b[at]! | (b[at + 1]! << 8)) << 16) >> 16;
    case 'u16':
      return b[at]! | (b[at + 1]! << 8);
    case 'i32':
      return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
    case 'u32':
      return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
    case 'u48':
      return num(b, at, 'u32') + num(b, at + 4, 'u16') * 2 ** 32;
    case 'f32':
      for (let i = 0; i < 4; i++) SCRATCH[i] = b[at + i]!;
      return F32[0]!;
    case 'f64':
      for (let i = 0; i < 8; i++) SCRATCH[i] = b[at + i]!;
      return F64[0]!;
  }
}

/** Flags octet (optional), value, then `tail` octets (a time, or nothing). */
function value(t: NumType, flags: boolean, tail = 0): ObjectSpec {
  const at = flags ? 1 : 0;
  return {
    size: at + WIDTH[t] + tail,
    read: (b, o, p) => {
      if (flags) p.flags = b[o]!;
      const v = num(b, o + at, t);
      p.value = Number.isFinite(v) ? v : String(v);
    },
  };
}

/** Value then a control status octet (analog output commands, g41 §A.23). */
function command(t: NumType): ObjectSpec {
  return {
    size: WIDTH[t] + 1,
    read: (b, o, p) => {
      const v = num(b, o, t);
      p.value = Number.isFinite(v) ? v : String(v);
      p.flags = b[o + WIDTH[t]]!;
    },
  };
}

/** Flags octet whose top bit(s) hold the state (binary with flags, §A.2.2), plus `tail` octets. */
function flagged(tail: number, doubleBit = false): ObjectSpec {
  return {
    size: 1 + tail,
    read: (b, o, p) => {
      p.flags = b[o]!;
      p.value = doubleBit ? (b[o]! >> 6) & 3 : (b[o]! >> 7) & 1;
    },
  };
}

const BIT: ObjectSpec = { size: 1, bits: true };
const DBIT: ObjectSpec = { size: 2, bits: true };

/** Control Relay Output Block (§A.8.1): control code, count, on-time, off-time, status. */
const CROB: ObjectSpec = {
  size: 11,
  read: (b, o, p) => {
    const code = b[o]!;
    p.crob = {
      opType: code & 0x0f,
      queue: (code & 0x10) !== 0,
      clear: (code & 0x20) !== 0,
      tcc: code >> 6,
      count: b[o + 1]!,
      onTimeMs: num(b, o + 2, 'u32'),
      offTimeMs: num(b, o + 6, 'u32'),
      status: b[o + 10]!,
    };
    p.flags = b[o + 10]!;
  },
};

/** Counters: odd variations 32-bit, even 16-bit, flags up to `flagsUpTo`, a time on 4 from `timeFrom` (§A.9–A.12). */
function counters(flagsUpTo: number, count: number, timeFrom = 99): Record<number, ObjectSpec> {
  const out: Record<number, ObjectSpec> = {};
  for (let v = 1; v <= count; v++)
    out[v] = value(v % 2 ? 'u32' : 'u16', v <= flagsUpTo, v >= timeFrom && v < timeFrom + 4 ? 6 : 0);
  return out;
}

/** Analog events and commands events: i32, i16, i32+time, i16+time, f32, f64, f32+time, f64+time. */
const ANALOG_EVENTS: Record<number, ObjectSpec> = {
  1: value('i32', true),
  2: value('i16', true),
  3: value('i32', true, 6),
  4: value('i16', true, 6),
  5: value('f32', true),
  6: value('f64', true),
  7: value('f32', true, 6),
  8: value('f64', true, 6),
};

const counterEvents = counters(8, 8, 5);
const TABLE: Record<number, Record<number, ObjectSpec>> = {
  1: { 1: BIT, 2: flagged(0) },
  2: { 1: flagged(0), 2: flagged(6), 3: flagged(2) },
  3: { 1: DBIT, 2: flagged(0, true) },
  4: { 1: flagged(0, true), 2: flagged(6, true), 3: flagged(2, true) },
  10: { 1: BIT, 2: flagged(0) },
  11: { 1: flagged(0), 2: flagged(6) },
  12: { 1: CROB, 2: CROB, 3: BIT },
  13: { 1: flagged(0), 2: flagged(6) },
  20: counters(4, 8),
  21: counters(8, 12, 5),
  22: counterEvents,
  23: counterEvents,
  30: {
    1: value('i32', true),
    2: value('i16', true),
    3: value('i32', false),
    4: value('i16', false),
    5: value('f32', true),
    6: value('f64', true),
  },
  31: {
    1: value('i32', true),
    2: value('i16', true),
    3: value('i32', true, 6),
    4: value('i16', true, 6),
    5: value('i32', false),
    6: value('i16', false),
    7: value('f32', true),
    8: value('f64', true),
  },
  32: ANALOG_EVENTS,
  33: ANALOG_EVENTS,
  34: { 1: value('u16', false), 2: value('u32', false), 3: value('f32', false) },
  40: { 1: value('i32', true), 2: value('i16', true), 3: value('f32', true), 4: value('f64', true) },
  41: { 1: command('i32'), 2: command('i16'), 3: command('f32'), 4: command('f64') },
  42: ANALOG_EVENTS,
  43: ANALOG_EVENTS,
  50: {
    1: value('u48', false),
    2: value('u48', false, 4),
    3: value('u48', false),
    4: value('u48', false, 5),
  },
  51: { 1: value('u48', false), 2: value('u48', false) },
  52: { 1: value('u16', false), 2: value('u16', false) },
  80: { 1: BIT },
};

/** Octet strings and virtual terminal data: the variation is the length (§A.38–A.41). */
const STRING_GROUPS = new Set([110, 111, 112, 113]);

export function objectSpec(group: number, variation: number): ObjectSpec | undefined {
  if (STRING_GROUPS.has(group)) {
    return {
      size: variation,
      read: (b, o, p) => {
        p.value = Buffer.from(b.subarray(o, o + Math.min(variation, 64))).toString('latin1');
      },
    };
  }
  return TABLE[group]?.[variation];
}

/** Groups whose objects never carry data: class data (g60) and the "all attributes" request. */
export const NO_DATA_GROUPS = new Set([60]);
