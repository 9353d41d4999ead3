/**
 * The numeric values an event carries, one name per point, for the device dashboard's time-series
 * charts and the baselines' learned value ranges: Modbus poller readings (`modbus.poll`
 * `readings`, booleans as 0/1, with `units`), register values of Modbus write requests and read
 * responses seen by the proxy or a capture (`values` from `address`), MQTT and CoAP telemetry
 * (`values`, named `<topic or path>/<key>`; a bare number payload is named after its topic) and
 * their aggregates (`avg`), DNP3 points (protocols/dnp3/values.ts: readings from responses, set
 * points from requests), BACnet present values read from a device (named after the object,
 * `analog_input:1`), OPC UA values written to the Value attribute (named after the node id) and
 * S7 read answers (named in S7 notation from their request's items, `DB1.DBW0`, `MW10`, `DB1.DBX8.0`).
 * Field meanings are those of protocols/event/SPEC.md. Pure: never
 * throws, returns only finite numbers, and at most MAX_VALUES_PER_EVENT of them so a hostile
 * payload cannot flood the dashboard's memory.
 */
import { dnp3PointValues } from '../dnp3/values.ts';
import type { PendingEvent } from '../event/schema.ts';

export const MAX_VALUES_PER_EVENT = 64;
const MAX_NAME_CHARS = 96;

export interface EventValue {
  name: string;
  value: number;
  unit?: string;
}

type Fields = Record<string, unknown>;

const isRecord = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** Modbus function codes whose `values` are register or bit contents (Application Protocol §6). */
const VALUE_FUNCTIONS = new Set([1, 2, 3, 4, 5, 6, 15, 16, 23]);
const BIT_FUNCTIONS = new Set([1, 2, 5, 15]);

/** The answer for the many events without values: one frozen array, not a new one per event. */
const NO_VALUES: readonly EventValue[] = Object.freeze([]);

export function eventValues(event: PendingEvent): readonly EventValue[] {
  const f = event.fields as Fields | undefined;
  if (!isRecord(f)) return NO_VALUES;
  if (event.source === 'dnp3') return dnp3PointValues(event).slice(0, MAX_VALUES_PER_EVENT);
  if (event.source === 'bacnet') return bacnetValues(f);
  if (event.source === 'opcua') return opcuaWrittenValues(event.action, f);
  if (event.source === 's7comm') return s7ReadValues(event.action, f);
  // Most events (syslog, security events) carry no values: answer before allocating anything.
  const telemetry = event.action.endsWith('.telemetry') || event.action.endsWith('.telemetry_aggregate');
  if (!telemetry && event.source !== 'modbus' && event.action !== 'modbus.poll') return NO_VALUES;
  const out: EventValue[] = [];
  const push = (name: string, raw: unknown, unit?: unknown) => {
    if (out.length >= MAX_VALUES_PER_EVENT) return;
    const value = asNumber(raw);
    if (value === undefined) return;
    out.push({
      name: name.slice(0, MAX_NAME_CHARS),
      value,
      ...(typeof unit === 'string' && unit !== '' ? { unit: unit.slice(0, 32) } : {}),
    });
  };
  if (event.action === 'modbus.poll' && isRecord(f.readings)) {
    const units = isRecord(f.units) ? f.units : {};
    for (const [name, v] of Object.entries(f.readings)) push(name, v, units[name]);
    return out;
  }
  if (event.source === 'modbus') {
    const fc = f.function_code;
    const address = f.address;
    const wanted =
      typeof fc === 'number' &&
      VALUE_FUNCTIONS.has(fc) &&
      // A write is a value at its request; a read is a value at its response.
      (f.direction === 'response') === (fc <= 4 || fc === 23);
    if (wanted && typeof address === 'number' && Array.isArray(f.values)) {
      const table = BIT_FUNCTIONS.has(fc) ? 'coil' : fc === 4 ? 'input' : 'holding';
      const start = fc === 23 && typeof f.read_address === 'number' ? f.read_address : address;
      f.values.forEach((v, i) => push(`${table}[${start + i}]`, v));
    }
    return out;
  }
  if (event.action.endsWith('.telemetry') || event.action.endsWith('.telemetry_aggregate')) {
    const where = typeof f.topic === 'string' ? f.topic : typeof f.path === 'string' ? f.path : '';
    const name = (key: string) => (key === 'value' && where ? where : where ? `${where}/${key}` : key);
    if (isRecord(f.values)) for (const [k, v] of Object.entries(f.values)) push(name(k), v);
    if (isRecord(f.aggregates)) {
      for (const [k, a] of Object.entries(f.aggregates)) if (isRecord(a)) push(name(k), a.avg);
    }
  }
  return out;
}

/** The present value of an object as read from the device (a ReadProperty or COV answer). */
function bacnetValues(f: Fields): EventValue[] {
  if (f.property !== 'present_value' || f.direction !== 'response' || typeof f.object !== 'string') return [];
  const value = asNumber(f.value);
  return value === undefined ? [] : [{ name: f.object.slice(0, MAX_NAME_CHARS), value }];
}

/** Attribute 13 is Value (OPC 10000-6 A.1): what a Write request sets, one per node. */
const OPCUA_VALUE_ATTRIBUTE = 13;

function opcuaWrittenValues(action: string, f: Fields): EventValue[] {
  if (action !== 'opcua.write' || f.direction !== 'request') return [];
  const { node_ids: nodes, values, attribute_ids: attributes } = f;
  if (!Array.isArray(nodes) || !Array.isArray(values)) return [];
  const out: EventValue[] = [];
  for (let i = 0; i < nodes.length && out.length < MAX_VALUES_PER_EVENT; i++) {
    const node = nodes[i];
    const value = asNumber(values[i]);
    const attribute = Array.isArray(attributes) ? attributes[i] : OPCUA_VALUE_ATTRIBUTE;
    if (typeof node === 'string' && value !== undefined && attribute === OPCUA_VALUE_ATTRIBUTE)
      out.push({ name: node.slice(0, MAX_NAME_CHARS), value });
  }
  return out;
}

/** S7ANY areas by their event names, as S7 addresses write them (inputs I, outputs Q, flags M). */
const S7_AREAS: Readonly<Record<string, string>> = {
  data_blocks: 'DB',
  inputs: 'I',
  outputs: 'Q',
  flags: 'M',
};
/** Transport sizes of S7ANY items: octets per element and how to read one. */
const S7_SIZES: Readonly<Record<number, { bytes: number; letter: string; read: (b: Buffer) => number }>> = {
  2: { bytes: 1, letter: 'B', read: (b) => b.readUInt8(0) },
  3: { bytes: 1, letter: 'B', read: (b) => b.readUInt8(0) },
  4: { bytes: 2, letter: 'W', read: (b) => b.readUInt16BE(0) },
  5: { bytes: 2, letter: 'W', read: (b) => b.readInt16BE(0) },
  6: { bytes: 4, letter: 'D', read: (b) => b.readUInt32BE(0) },
  7: { bytes: 4, letter: 'D', read: (b) => b.readInt32BE(0) },
  8: { bytes: 4, letter: 'D', read: (b) => Number(b.readFloatBE(0).toPrecision(7)) },
};

/** The values of an S7 read answer, named after the items of its request (`request_items`). */
function s7ReadValues(action: string, f: Fields): EventValue[] {
  if (action !== 's7comm.read_var' || f.direction !== 'response') return [];
  const { request_items: items, values } = f;
  if (!Array.isArray(items) || !Array.isArray(values)) return [];
  const out: EventValue[] = [];
  for (let i = 0; i < items.length && i < values.length && out.length < MAX_VALUES_PER_EVENT; i++) {
    const item = items[i] as Fields;
    const hex = values[i];
    const area = S7_AREAS[String(item?.area)];
    if (!isRecord(item) || !area || typeof hex !== 'string' || hex === '' || !/^[0-9a-f]+$/i.test(hex))
      continue;
    const bytes = Buffer.from(hex, 'hex');
    const byte = Number(item.byte_address);
    const prefix = area === 'DB' ? `DB${Number(item.db)}.DB` : area;
    if (!Number.isInteger(byte)) continue;
    if (item.transport_size === 1) {
      out.push({
        name: `${prefix}${area === 'DB' ? 'X' : ''}${byte}.${Number(item.bit_address)}`,
        value: bytes[0]! & 1,
      });
      continue;
    }
    const size = S7_SIZES[Number(item.transport_size)];
    if (!size) continue;
    for (let k = 0; (k + 1) * size.bytes <= bytes.length && out.length < MAX_VALUES_PER_EVENT; k++) {
      const value = size.read(bytes.subarray(k * size.bytes, (k + 1) * size.bytes));
      if (Number.isFinite(value))
        out.push({ name: `${prefix}${size.letter}${byte + k * size.bytes}`, value });
    }
  }
  return out;
}
