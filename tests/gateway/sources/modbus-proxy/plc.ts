/**
 * Test peers for the Modbus proxy: a recording PLC (a real Modbus/TCP server on 127.0.0.1 that
 * keeps every byte it receives, answers what it can decode, and can hold its answers back), a raw
 * master (a plain TCP socket that sends exact bytes and collects the ADUs that come back), and a
 * proxy factory on the recording context of tests/gateway/sources/support.ts.
 */
import net from 'node:net';
import { modbusProxySourceSchema } from '../../../../gateway/sources/modbus-proxy/config.ts';
import { createModbusProxy } from '../../../../gateway/sources/modbus-proxy/index.ts';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import {
  createMbapDeframer,
  decodePdu,
  encodeException,
  encodeMbap,
  encodeReadResponse,
  encodeWriteMultipleResponse,
  type ModbusAdu,
} from '../../../../protocols/modbus/index.ts';
import { waitFor } from '../../../support/env.ts';
import { portOf, recordingContext, type RecordingContext } from '../support.ts';

export interface RecordingPlc {
  port: number;
  /** Every byte received, over all connections, in order. */
  received(): Buffer;
  /** Requests received, recorded or not. */
  requests: number;
  /** The ADUs received (as the PLC framed them). */
  adus: ModbusAdu[];
  /** While true, requests are recorded but not answered until release(). */
  hold: boolean;
  release(): void;
  close(): Promise<void>;
}

/** The PLC's answer: register i holds 100 + i; writes are echoed; anything else is exception 01. */
function answer(adu: ModbusAdu): Uint8Array {
  const fc = adu.pdu[0] ?? 0;
  const d = decodePdu(adu.pdu, 'request');
  if (!d.ok) return encodeException(fc, 3);
  const p = d.pdu;
  if ((fc === 3 || fc === 4) && p.address !== undefined && p.quantity !== undefined)
    return encodeReadResponse(
      fc,
      Array.from({ length: Math.min(p.quantity, 125) }, (_, i) => 100 + p.address! + i),
    );
  if ((fc === 1 || fc === 2) && p.quantity !== undefined)
    return encodeReadResponse(fc, new Array<number>(Math.min(p.quantity, 2000)).fill(0));
  if (fc === 5 || fc === 6) return adu.pdu.slice(0, 5);
  if ((fc === 15 || fc === 16) && p.address !== undefined)
    return encodeWriteMultipleResponse(fc, p.address, p.quantity ?? 0);
  return encodeException(fc, 1);
}

/** `record: false` keeps only counts (for floods of requests): `received()` and `adus` stay empty. */
export async function startRecordingPlc({ record = true } = {}): Promise<RecordingPlc> {
  const chunks: Buffer[] = [];
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const plc: RecordingPlc = {
    port: 0,
    requests: 0,
    received: () => Buffer.concat(chunks),
    adus: [],
    hold: false,
    release() {
      plc.hold = false;
      for (const send of held.splice(0)) send();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const deframer = createMbapDeframer();
    socket.on('data', (chunk: Buffer) => {
      if (record) chunks.push(Buffer.from(chunk));
      for (const adu of deframer.push(chunk).adus) {
        plc.requests += 1;
        const copy = { header: adu.header, pdu: adu.pdu.slice() };
        if (record) plc.adus.push(copy);
        const send = () => {
          if (!socket.destroyed) socket.write(encodeMbap(copy.header, answer(copy)));
        };
        if (plc.hold) held.push(send);
        else send();
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  plc.port = (server.address() as net.AddressInfo).port;
  return plc;
}

export interface RawMaster {
  socket: net.Socket;
  /** ADUs received from the proxy. */
  adus: ModbusAdu[];
  closed: Promise<void>;
  send(bytes: Uint8Array): void;
  /** Sends one request and waits for the ADU that answers its transaction id. */
  request(transactionId: number, pdu: Uint8Array, unitId?: number): Promise<ModbusAdu>;
}

export async function connectRawMaster(port: number): Promise<RawMaster> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const deframer = createMbapDeframer();
  const master: RawMaster = {
    socket,
    adus: [],
    closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
    send: (bytes) => void socket.write(bytes),
    async request(transactionId, pdu, unitId = 1) {
      master.send(encodeMbap({ transactionId, unitId }, pdu));
      return waitFor(() => master.adus.find((a) => a.header.transactionId === transactionId), {
        what: `the answer to transaction ${transactionId}`,
        timeoutMs: 5000,
      });
    },
  };
  socket.on('data', (chunk: Buffer) => {
    for (const adu of deframer.push(chunk).adus)
      master.adus.push({ header: adu.header, pdu: adu.pdu.slice() });
  });
  socket.on('error', () => {});
  return master;
}

/** A started proxy in front of `plcPort`, on a recording context. */
export async function startProxy(
  plcPort: number,
  extra: Record<string, unknown>,
  ctx: RecordingContext = recordingContext(),
): Promise<{ source: Source; ctx: RecordingContext; port: number }> {
  const config = modbusProxySourceSchema.parse({
    type: 'modbus_proxy',
    listen: '127.0.0.1:0',
    endpoint: `127.0.0.1:${plcPort}`,
    ...extra,
  });
  const source = createModbusProxy('plc_proxy', config, ctx);
  await source.start();
  return { source, ctx, port: portOf(source) };
}

/** One FC 3 request (read 2 holding registers at 10), 12 bytes, transaction id `i` mod 65536. */
export function readRequest(i: number): Uint8Array {
  return encodeMbap({ transactionId: i & 0xffff, unitId: 1 }, Uint8Array.from([3, 0, 10, 0, 2]));
}

export interface Flood {
  /** Answers received so far (ADUs from the proxy). */
  answers(): number;
  /** Resolves once every request has been handed to the socket. */
  written: Promise<void>;
  socket: net.Socket;
}

/**
 * Pumps `count` FC 3 requests from one raw socket as fast as the socket takes them (64 KiB
 * writes, waiting for 'drain'), counting the answers without keeping them.
 */
export async function floodRequests(port: number, count: number): Promise<Flood> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const deframer = createMbapDeframer();
  let answers = 0;
  socket.on('data', (chunk: Buffer) => {
    answers += deframer.push(chunk).adus.length;
  });
  socket.on('error', () => {});
  const PER_WRITE = 5461; // 65,532 bytes
  const written = (async () => {
    for (let i = 0; i < count; i += PER_WRITE) {
      const n = Math.min(PER_WRITE, count - i);
      const buf = Buffer.alloc(n * 12);
      for (let j = 0; j < n; j++) buf.set(readRequest(i + j), j * 12);
      if (!socket.write(buf)) await new Promise<void>((resolve) => socket.once('drain', resolve));
    }
  })();
  return { answers: () => answers, written, socket };
}
