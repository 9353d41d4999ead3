/**
 * Modbus benchmarks: (1) frames decoded per second by `replay` over Zeek's modbusBig.pcap (13,622
 * packets, 5,548 Modbus ADUs: pcap reading, TCP reassembly, MBAP, PDU decoding, events, JSON), by
 * wall clock (issue 5's target) and by this process's CPU time (issue 18's, steadier on a shared
 * machine);
 * (2) the round-trip latency the inline proxy adds, median and p99, against a direct connection
 * to the same in-process Modbus/TCP server in the same run, one request in flight at a time.
 */
import net from 'node:net';
import path from 'node:path';
import { replayFiles } from '../../gateway/replay/index.ts';
import { modbusProxySourceSchema } from '../../gateway/sources/modbus-proxy/config.ts';
import { createModbusProxy } from '../../gateway/sources/modbus-proxy/index.ts';
import {
  createMbapDeframer,
  encodeMbap,
  encodeReadResponse,
  encodeRequest,
} from '../../protocols/modbus/index.ts';
import { collectingContext } from '../interop/support/modbus.ts';
import { SHARED_DATA } from '../support/env.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'modbus';

async function replayThroughput(quick: boolean): Promise<BenchFigure[]> {
  const file = path.join(SHARED_DATA, 'modbus', 'zeek', 'modbusBig.pcap');
  const once = async () => {
    let events = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const s = await replayFiles([file], { write: () => events++ });
    const cpu = process.cpuUsage(cpu0);
    return {
      s,
      ms: Number(process.hrtime.bigint() - t0) / 1e6,
      cpuMs: (cpu.user + cpu.system) / 1000,
      events,
    };
  };
  for (let i = 0; i < 3; i++) await once(); // warm up the JIT
  const runs = quick ? 5 : 20;
  let adus = 0;
  let packets = 0;
  let ms = 0;
  let cpuMs = 0;
  for (let i = 0; i < runs; i++) {
    const r = await once();
    adus += r.events;
    packets += r.s.frames;
    ms += r.ms;
    cpuMs += r.cpuMs;
  }
  return [
    {
      name: 'replay modbusBig.pcap: Modbus frames decoded to JSON events',
      value: (adus / ms) * 1000,
      unit: 'frames/s',
      target: { value: 100_000, better: 'higher', issue: 5 },
      note: `${runs} runs, ${Math.round((packets / ms) * 1000).toLocaleString('en-US')} packets/s`,
    },
    {
      name: 'replay modbusBig.pcap: Modbus frames decoded to JSON events, by CPU time',
      value: (adus / cpuMs) * 1000,
      unit: 'frames/CPU-s',
      target: { value: 120_000, better: 'higher', issue: 18 },
      note: `the same ${runs} runs; ${Math.round((packets / cpuMs) * 1000).toLocaleString('en-US')} packets per CPU second`,
    },
  ];
}

/** A minimal Modbus/TCP server answering FC 3 with fixed values: the PLC for both paths. */
async function startPlc(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const d = createMbapDeframer();
    socket.on('data', (chunk) => {
      for (const adu of d.push(chunk).adus)
        socket.write(encodeMbap(adu.header, encodeReadResponse(3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function roundTrips(port: number, n: number): Promise<number[]> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const d = createMbapDeframer();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        if (d.push(chunk).adus.length > 0) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.write(
        encodeMbap(
          { transactionId: i & 0xffff, unitId: 1 },
          encodeRequest({ function: 3, address: 0, quantity: 10 }),
        ),
      );
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  socket.destroy();
  return times;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function proxyLatency(quick: boolean): Promise<BenchFigure[]> {
  const plc = await startPlc();
  const ctx = collectingContext();
  ctx.emit = async () => {};
  const config = modbusProxySourceSchema.parse({
    type: 'modbus_proxy',
    listen: '127.0.0.1:0',
    endpoint: `127.0.0.1:${plc.port}`,
  });
  const proxy = createModbusProxy('bench', config, ctx);
  await proxy.start();
  const n = quick ? 500 : 5000;
  await roundTrips(plc.port, 200);
  await roundTrips(proxy.addresses()[0]!.port, 200);
  // Interleave the two paths in blocks so both see the same machine load.
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let i = 0; i < 5; i++) {
    direct.push(...(await roundTrips(plc.port, n / 5)));
    proxied.push(...(await roundTrips(proxy.addresses()[0]!.port, n / 5)));
  }
  await proxy.stop();
  await plc.close();
  const figures: BenchFigure[] = [];
  for (const [q, label] of [
    [0.5, 'median'],
    [0.99, 'p99'],
  ] as const) {
    const d = quantile(direct, q);
    const p = quantile(proxied, q);
    figures.push({
      name: `proxy round trip, ${label}`,
      value: p,
      unit: 'ms',
      peer: { name: 'direct connection', value: d },
      note: `${n} FC 3 requests each path`,
    });
    figures.push({
      name: `latency added by the proxy, ${label}`,
      value: Math.max(0, p - d),
      unit: 'ms',
      ...(label === 'p99' ? { target: { value: 2, better: 'lower' as const, issue: 5 } } : {}),
    });
  }
  return figures;
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  return [...(await replayThroughput(quick)), ...(await proxyLatency(quick))];
}
