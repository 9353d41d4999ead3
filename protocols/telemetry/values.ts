/**
 * The numeric values an event carries, one name per point, for the device dashboard's time-series
 * charts and the baselines' learned value ranges: Modbus poller readings (`modbus.poll`
 * `readings`, booleans as 0/1, with `units`), register values of Modbus write requests and read
 * responses seen by the proxy or a capture (`values` from `address`), MQTT and CoAP telemetry
 * (`values`, named `<topic or path>/<key>`; a bare number payload is named after its topic) and
 * their aggregates (`avg`). Field meanings are those of protocols/event/SPEC.md. Pure: never
 * throws, returns only finite numbers, and at most MAX_VALUES_PER_EVENT of them so a hostile
 * payload cannot flood the dashboard's memory.
 */
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

export function eventValues(event: PendingEvent): EventValue[] {
  const f = event.fields as Fields | undefined;
  if (!isRecord(f)) return [];
  // Most events (syslog, security events) carry no values: answer before allocating anything.
  const telemetry = event.action.endsWith('.telemetry') || event.action.endsWith('.telemetry_aggregate');
  if (!telemetry && event.source !== 'modbus' && event.action !== 'modbus.poll') return [];
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
