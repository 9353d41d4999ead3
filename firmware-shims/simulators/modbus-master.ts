/**
 * A small Modbus/TCP master built on the project's codec (request encoder, MBAP framing, PDU
 * decoder), able to connect from a chosen local address: the simulated HMI polls the tank
 * through the gateway's proxy from its own address, and the attack scenarios act as a rogue
 * master from another one (on Linux every 127.x.y.z address is local). Also `startHmi`, the
 * HMI's polling loop. A request the device does not answer (listen only mode) resolves to
 * `undefined` after `timeoutMs` instead of throwing.
 */
import net from 'node:net';
import {
  createMbapDeframer,
  decodePdu,
  encodeMbap,
  encodeRequest,
  type ModbusPdu,
  type ModbusRequestSpec,
} from '../../protocols/modbus/index.ts';
import { TANK } from './tank-process.ts';

export interface ModbusMasterOptions {
  host: string;
  port: number;
  /** Local address to connect from (default: chosen by the OS). */
  localAddress?: string;
  unitId?: number;
  timeoutMs?: number;
}

export interface ModbusMaster {
  /** Sends one request; resolves with the decoded response, or undefined on no answer. */
  request(spec: ModbusRequestSpec): Promise<ModbusPdu | undefined>;
  /** Sends a request and does not wait for an answer. */
  send(spec: ModbusRequestSpec): void;
  close(): void;
}

export async function connectModbusMaster(options: ModbusMasterOptions): Promise<ModbusMaster> {
  const socket = net.connect({ host: options.host, port: options.port, localAddress: options.localAddress });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => socket.destroy());
  const deframer = createMbapDeframer();
  const pending = new Map<number, (pdu: ModbusPdu | undefined) => void>();
  let transaction = 0;
  socket.on('data', (chunk: Buffer) => {
    for (const adu of deframer.push(chunk).adus) {
      const resolve = pending.get(adu.header.transactionId);
      if (!resolve) continue;
      pending.delete(adu.header.transactionId);
      const decoded = decodePdu(adu.pdu, 'response');
      resolve(decoded.ok ? decoded.pdu : undefined);
    }
  });
  socket.on('close', () => {
    for (const resolve of pending.values()) resolve(undefined);
    pending.clear();
  });
  const write = (spec: ModbusRequestSpec): number => {
    transaction = (transaction + 1) & 0xffff;
    const pdu = encodeRequest(spec);
    socket.write(encodeMbap({ transactionId: transaction, unitId: options.unitId ?? 1 }, pdu));
    return transaction;
  };
  return {
    request(spec) {
      if (socket.destroyed) return Promise.resolve(undefined);
      const id = write(spec);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve(undefined);
        }, options.timeoutMs ?? 1000);
        pending.set(id, (pdu) => {
          clearTimeout(timer);
          resolve(pdu);
        });
      });
    },
    send(spec) {
      if (!socket.destroyed) write(spec);
    },
    close() {
      socket.destroy();
    },
  };
}

export interface HmiOptions extends ModbusMasterOptions {
  /** Time between polls of the tank's registers (default 1000 ms). */
  intervalMs?: number;
}

/** The operator's HMI: reads the tank's set-points, values and bits every `intervalMs`. */
export function startHmi(options: HmiOptions): { polls(): number; stop(): void } {
  let master: ModbusMaster | undefined;
  let busy = false;
  let polls = 0;
  let stopped = false;
  const poll = async () => {
    if (stopped || busy) return;
    busy = true;
    try {
      await pollOnce();
    } finally {
      busy = false;
    }
  };
  const pollOnce = async () => {
    master ??= await connectModbusMaster(options).catch(() => undefined);
    if (!master) return;
    const h = Object.keys(TANK.holding).length;
    const answers = await Promise.all([
      master.request({ function: 3, address: 0, quantity: h }),
      master.request({ function: 4, address: 0, quantity: Object.keys(TANK.input).length }),
      master.request({ function: 1, address: 0, quantity: Object.keys(TANK.coils).length }),
    ]);
    if (answers.every(Boolean)) polls += 1;
    else if (!answers.some(Boolean)) {
      // A dropped connection (or a silent device): connect again on the next tick.
      master.close();
      master = undefined;
    }
    if (stopped) master?.close();
  };
  const timer = setInterval(() => void poll(), options.intervalMs ?? 1000);
  void poll();
  return {
    polls: () => polls,
    stop() {
      stopped = true;
      clearInterval(timer);
      master?.close();
    },
  };
}
