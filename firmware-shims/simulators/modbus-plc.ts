/**
 * A simulated PLC: a Modbus/TCP server built on the project's own codec (MBAP deframer, PDU
 * decoder and encoders), with holding registers, input registers, coils and discrete inputs.
 * It answers FC 1–6, 15, 16, 22, 23, 8 (diagnostics sub-functions 0, 1 and 4, with the listen
 * only mode of §6.8.1) and 43/14 (basic device identification) as Modbus Application Protocol
 * V1.1b3 §6 says, and every other request with exception 01 (§7). An optional process (the tank
 * of tank-process.ts: level, pump, valve, set-points, alarms) lives in its tables, so the demo's
 * poller, the HMI and attackers act on a plant that reacts. Used by `npm start`, the scenario
 * tests, the interop tests (mbpoll against it) and the capture tests.
 */
import net from 'node:net';
import {
  createMbapDeframer,
  decodePdu,
  encodeException,
  encodeMbap,
  encodeReadResponse,
  encodeWriteMultipleResponse,
  type ModbusPdu,
} from '../../protocols/modbus/index.ts';
import { initTank, stepTank, type TankState } from './tank-process.ts';
import type { PlcMemory } from './types.ts';

export interface ModbusPlcOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Unit ids served; others get exception 0B (gateway target failed to respond, §7). */
  unitIds?: number[];
  /** Registers and bits per table (default 1000). */
  size?: number;
  /** Moves input registers 0–1 every `simulateMs` (0 or absent: static memory). */
  simulateMs?: number;
  /**
   * Runs the tank process (tank-process.ts) in the first registers, stepped every `stepMs`
   * (default 500) at `speed` times real time (default 1).
   */
  tank?: { stepMs?: number; speed?: number; initial?: Partial<TankState> };
  /**
   * After FC 8 sub-function 4 (force listen only), answer again after this long, as if an
   * operator had reset the device; absent: only a restart communications request (FC 8/1)
   * ends it, as §6.8.1 says.
   */
  listenOnlyRecoveryMs?: number;
  /** Objects of a basic device identification (§6.21): vendor, product code, revision. */
  identity?: [string, string, string];
}

export interface ModbusPlc {
  port: number;
  memory: PlcMemory;
  /** Requests answered since start. */
  requests(): number;
  /** True while in listen only mode (FC 8/4): requests are read and ignored. */
  listenOnly(): boolean;
  stop(): Promise<void>;
}

const ILLEGAL_FUNCTION = 1;
const ILLEGAL_DATA_ADDRESS = 2;
const ILLEGAL_DATA_VALUE = 3;
const GATEWAY_TARGET_FAILED = 11;

/** Fresh memory: holding register N = N, input register N = 1000 + N, bits alternate from 1. */
export function createPlcMemory(size = 1000): PlcMemory {
  const mem: PlcMemory = {
    holding: new Uint16Array(size),
    input: new Uint16Array(size),
    coils: new Uint8Array(size),
    discrete: new Uint8Array(size),
  };
  for (let i = 0; i < size; i++) {
    mem.holding[i] = i;
    mem.input[i] = 1000 + i;
    mem.coils[i] = (i + 1) % 2;
    mem.discrete[i] = (i + 1) % 2;
  }
  return mem;
}

function inRange(table: ArrayLike<number>, address: number, quantity: number): boolean {
  return address + quantity <= table.length;
}

function deviceId(identity: [string, string, string]): Uint8Array {
  // §6.21 response: MEI type, code, conformity level 01 (basic, stream), more follows 0, next 0,
  // number of objects, then id/length/value per object.
  const out = [43, 14, 1, 1, 0, 0, identity.length];
  identity.forEach((text, id) => {
    const bytes = Buffer.from(text, 'latin1');
    out.push(id, bytes.length, ...bytes);
  });
  return Uint8Array.from(out);
}

/** Executes one decoded request on `mem` and returns the response PDU (normal or exception). */
export function executePlcRequest(
  mem: PlcMemory,
  req: ModbusPdu,
  identity: [string, string, string] = ['edge-siem', 'SIM-PLC', '1.0'],
): Uint8Array {
  const fc = req.function;
  const fail = (code: number) => encodeException(fc, code);
  // A request with a quantity outside the spec's range is answered with 03 (§6.x state diagrams).
  if (req.anomalies.some((a) => a.endsWith('_out_of_range'))) return fail(ILLEGAL_DATA_VALUE);
  const address = req.address ?? 0;
  const quantity = req.quantity ?? 1;
  switch (fc) {
    case 1:
    case 2: {
      const table = fc === 1 ? mem.coils : mem.discrete;
      if (!inRange(table, address, quantity)) return fail(ILLEGAL_DATA_ADDRESS);
      return encodeReadResponse(fc, Array.from(table.subarray(address, address + quantity)));
    }
    case 3:
    case 4: {
      const table = fc === 3 ? mem.holding : mem.input;
      if (!inRange(table, address, quantity)) return fail(ILLEGAL_DATA_ADDRESS);
      return encodeReadResponse(fc, Array.from(table.subarray(address, address + quantity)));
    }
    case 5:
    case 6: {
      const table = fc === 5 ? mem.coils : mem.holding;
      if (!inRange(table, address, 1)) return fail(ILLEGAL_DATA_ADDRESS);
      if (fc === 5 && req.anomalies.includes('invalid_coil_value')) return fail(ILLEGAL_DATA_VALUE);
      table[address] = req.values?.[0] ?? 0;
      // §6.5/§6.6: the normal response echoes the request.
      return Uint8Array.from([fc, req.data[0]!, req.data[1]!, req.data[2]!, req.data[3]!]);
    }
    case 15:
    case 16: {
      const table = fc === 15 ? mem.coils : mem.holding;
      const values = req.values ?? [];
      if (values.length !== quantity) return fail(ILLEGAL_DATA_VALUE);
      if (!inRange(table, address, quantity)) return fail(ILLEGAL_DATA_ADDRESS);
      table.set(values, address);
      return encodeWriteMultipleResponse(fc, address, quantity);
    }
    case 22: {
      // §6.16: result = (current AND and_mask) OR (or_mask AND NOT and_mask).
      if (!inRange(mem.holding, address, 1)) return fail(ILLEGAL_DATA_ADDRESS);
      const and = req.andMask ?? 0xffff;
      const or = req.orMask ?? 0;
      mem.holding[address] = (mem.holding[address]! & and) | (or & ~and & 0xffff);
      return Uint8Array.from([22, ...req.data.subarray(0, 6)]);
    }
    case 23: {
      // §6.17: the write is performed before the read.
      const ra = req.readAddress ?? 0;
      const rq = req.readQuantity ?? 0;
      const wa = req.writeAddress ?? 0;
      const values = req.values ?? [];
      if (!inRange(mem.holding, wa, values.length) || !inRange(mem.holding, ra, rq))
        return fail(ILLEGAL_DATA_ADDRESS);
      mem.holding.set(values, wa);
      const read = encodeReadResponse(3, Array.from(mem.holding.subarray(ra, ra + rq)));
      read[0] = 23;
      return read;
    }
    case 43:
      return req.meiType === 14 ? deviceId(identity) : fail(ILLEGAL_FUNCTION);
    default:
      return fail(ILLEGAL_FUNCTION);
  }
}

export async function startModbusPlc(options: ModbusPlcOptions = {}): Promise<ModbusPlc> {
  const memory = createPlcMemory(options.size ?? 1000);
  const units = new Set(options.unitIds ?? [1]);
  const sockets = new Set<net.Socket>();
  let answered = 0;
  let listenOnlyUntil: number | undefined;
  const inListenOnly = () => listenOnlyUntil !== undefined && Date.now() < listenOnlyUntil;
  if (options.tank) initTank(memory, options.tank.initial);
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const deframer = createMbapDeframer();
    socket.on('data', (chunk: Buffer) => {
      const { adus, errors } = deframer.push(chunk);
      // Not Modbus: a real PLC drops the connection (Messaging on TCP/IP §4.4.1.1).
      if (errors.length > 0) return void socket.destroy();
      for (const adu of adus) {
        const fc = adu.pdu[0] ?? 0;
        let pdu: Uint8Array;
        const decoded = decodePdu(adu.pdu, 'request');
        const diagnostics = decoded.ok && fc === 8 ? decoded.pdu.subFunction : undefined;
        // §6.8.1: in listen only mode nothing is answered but a restart communications request.
        if (inListenOnly() && diagnostics !== 1) continue;
        if (!units.has(adu.header.unitId)) pdu = encodeException(fc, GATEWAY_TARGET_FAILED);
        else if (diagnostics !== undefined) {
          if (diagnostics === 4) {
            // §6.8.1 sub-function 04: no response is returned.
            listenOnlyUntil = Date.now() + (options.listenOnlyRecoveryMs ?? 2 ** 40);
            continue;
          }
          if (diagnostics === 1) listenOnlyUntil = undefined;
          // Sub-functions 00 (return query data) and 01 echo the request; others are not served.
          pdu = diagnostics <= 1 ? Uint8Array.from(adu.pdu) : encodeException(fc, ILLEGAL_FUNCTION);
        } else {
          pdu = decoded.ok
            ? executePlcRequest(memory, decoded.pdu, options.identity)
            : encodeException(fc, ILLEGAL_DATA_VALUE);
        }
        answered++;
        socket.write(encodeMbap(adu.header, pdu));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  let timer: NodeJS.Timeout | undefined;
  if (options.simulateMs) {
    const started = Date.now();
    timer = setInterval(() => {
      const t = (Date.now() - started) / 1000;
      memory.input[0] = Math.round(500 + 400 * Math.sin(t / 30)); // tank level, 0.1 %
      memory.input[1] = Math.round(215 + 15 * Math.sin(t / 7)); // temperature, 0.1 degC
    }, options.simulateMs);
    timer.unref();
  }
  if (options.tank) {
    const stepMs = options.tank.stepMs ?? 500;
    const speed = options.tank.speed ?? 1;
    const state = {};
    timer = setInterval(() => stepTank(memory, (stepMs / 1000) * speed, state), stepMs);
    timer.unref();
  }
  return {
    port: (server.address() as net.AddressInfo).port,
    memory,
    requests: () => answered,
    listenOnly: inListenOnly,
    async stop() {
      if (timer) clearInterval(timer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
