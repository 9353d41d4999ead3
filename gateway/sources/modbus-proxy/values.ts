/**
 * What the proxy knows of the PLC's memory: the last value it saw for each coil and holding
 * register per unit, learned from read responses (FC 1, 3, 23) and from confirmed writes. A write
 * request's event then carries `previous_values` when every address it writes is known, which is
 * what an engineer needs to see what an attacker changed. Bounded; pure.
 */
import type { ModbusPdu } from '../../../protocols/modbus/index.ts';
import { EvictionCursor } from '../../../protocols/event/evict.ts';

const MAX_ENTRIES = 100_000;

export interface ValueCache {
  /** Learns from a response, given its request. */
  learn(unitId: number, request: ModbusPdu, response: ModbusPdu): void;
  /** The values a write request would overwrite, when all are known. */
  previous(unitId: number, request: ModbusPdu): number[] | undefined;
}

export function createValueCache(): ValueCache {
  const values = new Map<string, number>();
  const oldest = new EvictionCursor(values);
  const set = (key: string, v: number) => {
    if (!values.has(key) && values.size >= MAX_ENTRIES) oldest.evict();
    values.set(key, v);
  };
  const store = (unit: number, table: 'c' | 'h', start: number, vs: number[] | undefined) => {
    vs?.forEach((v, i) => set(`${unit}:${table}:${start + i}`, v));
  };
  return {
    learn(unit, req, res) {
      if (res.exception) return;
      const fc = req.function;
      if (fc === 1 && req.address !== undefined) store(unit, 'c', req.address, res.values);
      else if (fc === 3 && req.address !== undefined) store(unit, 'h', req.address, res.values);
      else if (fc === 23 && req.readAddress !== undefined) {
        store(unit, 'h', req.writeAddress ?? 0, req.values);
        store(unit, 'h', req.readAddress, res.values);
      } else if ((fc === 5 || fc === 15) && req.address !== undefined)
        store(unit, 'c', req.address, req.values);
      else if ((fc === 6 || fc === 16) && req.address !== undefined)
        store(unit, 'h', req.address, req.values);
    },
    previous(unit, req) {
      const fc = req.function;
      const table = fc === 5 || fc === 15 ? 'c' : 'h';
      const start = fc === 23 ? req.writeAddress : req.address;
      if (![5, 6, 15, 16, 23].includes(fc) || start === undefined || !req.values) return undefined;
      const out: number[] = [];
      for (let i = 0; i < req.values.length; i++) {
        const v = values.get(`${unit}:${table}:${start + i}`);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    },
  };
}
