/**
 * The OT inline proxy over real sockets. With the demo's simulators behind it: a DNP3 master's
 * polls and an S7 HMI's reads become the capture decoders' events while the connections stay
 * open (points, identity, named DB values), and the attacks come out as the events the shipped
 * rules match (dnp3.cold_restart, s7comm.plc_stop requests). With raw peers: any bytes, DNP3 or
 * not, cross unchanged both ways (megabytes each way, in order); a FIN from either side reaches
 * the other; a device that is not there is reported and the client closed; and the limits hold:
 * connections beyond max_connections are refused and counted, a silent connection is closed after
 * idle_timeout_secs, and while a client does not read, the proxy stops reading the device (the
 * device's writes back up) and nothing is lost once it reads again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, test } from 'node:test';
import {
  connectDnp3Master,
  DNP3_FC,
  startDnp3Outstation,
} from '../../../../firmware-shims/simulators/dnp3-outstation.ts';
import {
  connectS7Client,
  S7_IDENTITY,
  S7_TYPE,
  startS7Plc,
} from '../../../../firmware-shims/simulators/s7-plc.ts';
import { otProxySourceSchema } from '../../../../gateway/sources/ot-proxy/config.ts';
import { createOtProxy } from '../../../../gateway/sources/ot-proxy/index.ts';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { eventValues } from '../../../../protocols/telemetry/values.ts';
import { waitFor } from '../../../support/env.ts';
import { recordingContext, type RecordingContext } from '../support.ts';

const cleanup: Array<{ stop(): Promise<void> } | { close(): void }> = [];
after(async () => {
  for (const c of cleanup.reverse()) {
    if ('stop' in c) await c.stop();
    else c.close();
  }
});

async function proxy(
  proxies: Array<{ protocol: string; upstream: string }>,
  limits: Record<string, unknown> = {},
): Promise<{ source: Source; ctx: RecordingContext; ports: number[] }> {
  const ctx = recordingContext();
  const config = otProxySourceSchema.parse({
    type: 'ot_proxy',
    proxies: proxies.map((p) => ({ ...p, listen: '127.0.0.1:0' })),
    ...limits,
  });
  const source = createOtProxy('ot', config, ctx);
  await source.start();
  cleanup.push(source);
  return { source, ctx, ports: source.addresses().map((a) => a.port) };
}

/** A raw upstream: records what it receives, hands each connection to `onSocket`. */
async function rawServer(onSocket: (s: net.Socket) => void = () => {}) {
  const sockets: net.Socket[] = [];
  const received: Buffer[][] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const mine: Buffer[] = [];
    received.push(mine);
    sockets.push(s);
    s.on('data', (d) => mine.push(d));
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push({
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  return { port: (server.address() as net.AddressInfo).port, sockets, received };
}

function connect(port: number, opts: { allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, ...opts }, () => resolve(s));
    s.once('error', reject);
  });
}

const errorsWith = async (ctx: RecordingContext, code: string) =>
  (await ctx.metrics.errors.get()).values
    .filter((v) => v.labels.code === code)
    .reduce((sum, v) => sum + v.value, 0);

test('DNP3 and S7 through the proxy: capture events while the connections stay open, then the attacks', async () => {
  const outstation = await startDnp3Outstation({ stepMs: 0 });
  const cpu = await startS7Plc({ stepMs: 0 });
  cleanup.push(outstation, cpu);
  const { ctx, ports } = await proxy([
    { protocol: 'dnp3', upstream: `127.0.0.1:${outstation.port}` },
    { protocol: 's7comm', upstream: `127.0.0.1:${cpu.port}` },
  ]);
  const master = await connectDnp3Master({ host: '127.0.0.1', port: ports[0]! });
  cleanup.push(master);
  const poll = await master.integrityPoll();
  assert.deepEqual(
    poll?.objects.map((h) => `g${h.group}v${h.variation}`),
    ['g1v2', 'g30v1'],
  );
  const response = await ctx.waitEvent((e) => e.action === 'dnp3.response', 'the DNP3 response event');
  assert.equal(response.device?.id, 'dnp3:127.0.0.1/10');
  assert.equal(response.fields.proxy, 'ot');
  assert.deepEqual(
    eventValues(response).map((v) => `${v.name}=${v.value}`),
    [
      'analog_input[0]=11000',
      'analog_input[1]=10950',
      'analog_input[2]=120',
      'analog_input[3]=95',
      'binary_input[0]=1',
      'binary_input[1]=0',
      'binary_input[2]=1',
      'binary_input[3]=0',
    ],
  );
  assert.equal(response.src?.ip, '127.0.0.1');
  assert.equal(response.src?.port, outstation.port);

  const hmi = await connectS7Client({ host: '127.0.0.1', port: ports[1]! });
  cleanup.push(hmi);
  await hmi.readSzl(0x001c);
  await hmi.read([{ db: 1, byte: 0, type: S7_TYPE.INT }]);
  const szl = await ctx.waitEvent(
    (e) => e.action === 's7comm.read_szl' && e.fields.direction === 'response',
    'the SZL answer',
  );
  assert.deepEqual(
    [szl.device?.protocol_id, szl.device?.name],
    [S7_IDENTITY.serialNumber, S7_IDENTITY.stationName],
  );
  const read = await ctx.waitEvent(
    (e) => e.action === 's7comm.read_var' && e.fields.direction === 'response',
    'the read answer',
  );
  assert.deepEqual(eventValues(read), [{ name: 'DB1.DBW0', value: cpu.db(1)!.readInt16BE(0) }]);

  // The attacks, as the rules (rules/ics/dnp3-restart.yml, s7comm-mode.yml) match them.
  await master.request(DNP3_FC.COLD_RESTART);
  await hmi.plcStop();
  await ctx.waitEvent((e) => e.action === 'dnp3.cold_restart' && e.fields.direction === 'request');
  await ctx.waitEvent((e) => e.action === 's7comm.plc_stop' && e.fields.direction === 'request');
  assert.equal(outstation.restarts.cold, 1);
  assert.equal(cpu.mode(), 'stop');
});

test('any bytes cross unchanged both ways, in order, megabytes each way; a FIN from either side reaches the other', async () => {
  const toClient = randomBytes(3 * 1024 * 1024);
  const device = await rawServer((s) => {
    s.end(toClient);
  });
  const { ports, ctx } = await proxy([{ protocol: 'dnp3', upstream: `127.0.0.1:${device.port}` }]);
  const client = await connect(ports[0]!, { allowHalfOpen: true });
  // Not DNP3 at all, then something that looks like a link header: relayed all the same.
  const toDevice = Buffer.concat([randomBytes(2 * 1024 * 1024), Buffer.from([0x05, 0x64, 0x05, 0xc0])]);
  const got: Buffer[] = [];
  client.on('data', (d) => got.push(d));
  const clientEnded = new Promise<void>((resolve) => client.on('end', resolve));
  client.end(toDevice);
  // The device ended its side: the client sees the end after every byte.
  await clientEnded;
  assert.ok(Buffer.concat(got).equals(toClient), 'device → client unchanged');
  // The client's FIN reached the device after all of its bytes.
  const deviceSocket = device.sockets[0]!;
  await waitFor(() => (deviceSocket.readableEnded ? true : undefined), { what: 'the FIN at the device' });
  assert.ok(Buffer.concat(device.received[0]!).equals(toDevice), 'client → device unchanged');
  // Undecodable bytes are reported as events, not dropped from the wire.
  await ctx.waitEvent((e) => e.source === 'dnp3', 'a DNP3 event about the garbage');
});

test('the device closing first closes the client; a device that is not there is reported', async () => {
  const device = await rawServer((s) => setTimeout(() => s.destroy(), 50));
  // A port nothing listens on: bound, then closed.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const nobody = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const { ports, ctx } = await proxy([
    { protocol: 's7comm', upstream: `127.0.0.1:${device.port}` },
    { protocol: 'opcua', upstream: `127.0.0.1:${nobody}` },
  ]);
  const client = await connect(ports[0]!);
  client.on('error', () => {});
  await new Promise((resolve) => client.on('close', resolve));
  const orphan = await connect(ports[1]!);
  orphan.on('error', () => {});
  await new Promise((resolve) => orphan.on('close', resolve));
  const unreachable = await ctx.waitEvent((e) => e.action === 'opcua.device_unreachable');
  assert.equal(unreachable.fields.upstream, `127.0.0.1:${nobody}`);
});

test('limits: connections beyond max_connections are refused and counted; a silent connection is closed', async () => {
  const device = await rawServer();
  const { ports, ctx } = await proxy([{ protocol: 'enip', upstream: `127.0.0.1:${device.port}` }], {
    max_connections: 2,
    idle_timeout_secs: 0.5,
  });
  const a = await connect(ports[0]!);
  const b = await connect(ports[0]!);
  a.write('x');
  b.write('y');
  await waitFor(() => (device.sockets.length === 2 ? true : undefined), { what: 'two relayed' });
  const c = await connect(ports[0]!);
  c.on('error', () => {});
  await new Promise((resolve) => c.on('close', resolve));
  assert.equal(device.sockets.length, 2, 'the third never reached the device');
  await waitFor(async () => ((await errorsWith(ctx, 'max_connections')) >= 1 ? true : undefined), {
    what: 'the refusal counted',
  });
  // Silent for idle_timeout_secs: both sides are closed.
  await Promise.all([a, b].map((s) => new Promise((resolve) => s.on('close', resolve))));
  await waitFor(() => (device.sockets.every((s) => s.destroyed || s.readableEnded) ? true : undefined), {
    what: 'the device sides closed',
  });
  assert.ok((await errorsWith(ctx, 'idle_timeout')) >= 2);
});

test('backpressure: while the client does not read, the proxy stops reading the device; nothing is lost', async () => {
  const flood = randomBytes(48 * 1024 * 1024);
  let written = false;
  const device = await rawServer((s) => s.write(flood, () => (written = true)));
  const { ports } = await proxy([{ protocol: 'dnp3', upstream: `127.0.0.1:${device.port}` }], {
    max_buffered_bytes: 65_536,
  });
  const client = await connect(ports[0]!);
  client.pause();
  await waitFor(() => (device.sockets.length === 1 ? true : undefined));
  // The kernel's buffers hold a few megabytes; 48 MiB do not leave the device while nobody reads.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(written, false, 'the device could write everything: the proxy read without bound');
  assert.ok(device.sockets[0]!.writableLength > 16 * 1024 * 1024, 'the device is held back');
  const got: Buffer[] = [];
  let bytes = 0;
  client.on('data', (d) => {
    got.push(d);
    bytes += d.length;
  });
  client.resume();
  await waitFor(() => (bytes >= flood.length ? true : undefined), {
    timeoutMs: 60_000,
    what: 'the whole flood',
  });
  assert.ok(Buffer.concat(got).equals(flood));
  client.destroy();
});
