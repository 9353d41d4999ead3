/**
 * The socket pair both inline proxies are built on, over real loopback sockets: bytes sent before
 * the device's connection is up are held and then go first; a byte-transparent relay (`halfClose`)
 * passes a FIN on and lets the other side still answer, and a reset on one side resets the other;
 * a session relay (no `halfClose`) closes the client when the device goes and the device when the
 * client goes; an unreachable device and a silent connection are reported and close both; a
 * client's socket error is counted; and `onEnd` comes once, after both sockets are closed.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, test } from 'node:test';
import { openTcpRelay, type TcpRelayOptions } from '../../../../gateway/sources/shared/tcp-relay.ts';
import { freePort } from '../../../support/env.ts';
import { recordingContext } from '../support.ts';

const servers: net.Server[] = [];
/** Device sockets a test left half open (a server closes only once its connections are gone). */
const deviceSockets: net.Socket[] = [];
after(async () => {
  for (const s of deviceSockets) s.destroy();
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
});

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A device (half-open allowed: it sees the relay's FIN as `end`): each connection goes to `onSocket` (echo by default). */
async function device(onSocket: (s: net.Socket) => void = (s) => s.pipe(s)) {
  const sockets: net.Socket[] = [];
  const port = await listen(
    net.createServer({ allowHalfOpen: true }, (s) => {
      sockets.push(s);
      deviceSockets.push(s);
      s.on('error', () => {});
      onSocket(s);
    }),
  );
  return { port, sockets };
}

interface Trace {
  log: string[];
  errors: Array<{ message: string; connected: boolean }>;
  ended: Promise<void>;
  backlogAtOpen?: number;
}

/**
 * A proxy listener relaying each client to `upstreamPort` through openTcpRelay, forwarding both
 * ways; `early` is sent toward the device before the event loop turns (so it is held).
 */
async function proxy(
  upstreamPort: number,
  options: Partial<TcpRelayOptions> & { halfClose: boolean; early?: Buffer },
  idleSecs = 60,
) {
  const ctx = recordingContext();
  const trace: Trace = { log: [], errors: [], ended: Promise.resolve() };
  let endedResolve!: () => void;
  trace.ended = new Promise<void>((resolve) => (endedResolve = resolve));
  const port = await listen(
    net.createServer({ allowHalfOpen: options.halfClose }, (client) => {
      const target = {
        name: 'relay-test',
        ctx,
        upstream: { host: '127.0.0.1', port: upstreamPort },
        config: { connect_timeout_secs: 5, idle_timeout_secs: idleSecs },
      };
      const relay = openTcpRelay(client, target, {
        onClientData: (chunk) => relay.send(chunk),
        onUpstreamData: (chunk) => void client.write(chunk),
        onWritable: () => {},
        onUpstreamError: (error, connected) => trace.errors.push({ message: error.message, connected }),
        ...options,
        onIdle: () => trace.log.push('idle'),
        onClientClose: () => trace.log.push('client closed'),
        onEnd: () => {
          trace.log.push('end');
          endedResolve();
        },
      });
      if (options.early) {
        relay.send(options.early);
        trace.backlogAtOpen = relay.upstreamBacklog();
      }
      trace.log.push(`peer ${relay.peer.ip}`);
    }),
  );
  return { port, ctx, trace };
}

function connect(port: number, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen }, () => resolve(s));
    s.once('error', reject);
  });
}

/** The device's first accepted connection, once there is one. */
async function accepted(sockets: net.Socket[]): Promise<net.Socket> {
  while (sockets.length === 0) await new Promise((resolve) => setImmediate(resolve));
  return sockets[0]!;
}

/** Everything `socket` reads until its peer ends or closes it. */
function readAll(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks).toString())));
}

test('bytes sent before the device is connected are held, then go first; both ways in order', async () => {
  const dev = await device();
  const { port, trace } = await proxy(dev.port, { halfClose: true, early: Buffer.from('early|') });
  const client = await connect(port, true);
  const got = readAll(client);
  for (let i = 0; i < 50; i++) client.write(`m${i}|`);
  client.end();
  const expected = 'early|' + Array.from({ length: 50 }, (_, i) => `m${i}|`).join('');
  assert.equal(await got, expected, 'echoed through the relay, in order');
  await trace.ended;
  assert.equal(trace.backlogAtOpen, 6, 'held bytes count in the backlog');
  assert.deepEqual(trace.log, ['peer 127.0.0.1', 'client closed', 'end']);
  assert.deepEqual(trace.errors, []);
});

test('half close: the client FIN reaches the device, which still answers; then both close once', async () => {
  const dev = await device((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => s.end(`got ${Buffer.concat(chunks).toString()}`));
  });
  const { port, trace } = await proxy(dev.port, { halfClose: true });
  const client = await connect(port, true);
  const got = readAll(client);
  client.end('question');
  assert.equal(await got, 'got question');
  await trace.ended;
  assert.equal(trace.log.filter((l) => l === 'end').length, 1);
});

test('half close: a device that resets ends the client at once, without waiting for its FIN', async () => {
  const dev = await device((s) => s.once('data', () => s.resetAndDestroy()));
  const { port, trace } = await proxy(dev.port, { halfClose: true });
  const client = await connect(port, true);
  const ended = once(client, 'end');
  client.on('error', () => {});
  client.write('boom');
  // The client has not ended its side: the relay gives up on its half at once.
  await ended;
  await trace.ended;
  client.destroy();
  assert.deepEqual(
    trace.errors.map((e) => e.connected),
    [true],
    'reported as an error after the connect',
  );
});

test('session relay: the device closing closes the client, the client closing closes the device', async () => {
  const dev = await device((s) => s.once('data', () => s.end()));
  const { port, trace } = await proxy(dev.port, { halfClose: false });
  const client = await connect(port);
  const closed = once(client, 'close');
  client.write('x');
  await closed;
  await trace.ended;

  const quiet = await device((s) => s.resume());
  const second = await proxy(quiet.port, { halfClose: false });
  const c2 = await connect(second.port);
  c2.write('y');
  const deviceEnded = once(await accepted(quiet.sockets), 'end');
  c2.end();
  await deviceEnded;
  await second.trace.ended;
  assert.deepEqual(second.trace.log, ['peer 127.0.0.1', 'client closed', 'end']);
});

test('an unreachable device is reported before the connect and the client is closed', async () => {
  const nobody = await freePort();
  const { port, trace } = await proxy(nobody, { halfClose: true });
  const client = await connect(port);
  client.on('error', () => {});
  await once(client, 'close');
  await trace.ended;
  assert.equal(trace.errors.length, 1);
  assert.equal(trace.errors[0]!.connected, false);
  assert.match(trace.errors[0]!.message, /ECONNREFUSED/);
});

test('a silent connection is closed after the idle timeout, both sides', async () => {
  const dev = await device((s) => s.resume());
  const { port, trace } = await proxy(dev.port, { halfClose: true }, 0.05);
  const client = await connect(port);
  client.on('error', () => {});
  const deviceEnded = once(await accepted(dev.sockets), 'end');
  await once(client, 'close');
  await deviceEnded;
  await trace.ended;
  assert.ok(trace.log.includes('idle'));
});

test("a client's socket error is counted and resets the device", async () => {
  const dev = await device((s) => s.resume());
  const { port, ctx, trace } = await proxy(dev.port, { halfClose: true });
  const client = await connect(port, true);
  client.write('hello');
  const deviceEnded = once(await accepted(dev.sockets), 'end');
  client.resetAndDestroy();
  await deviceEnded;
  await trace.ended;
  const errors = (await ctx.metrics.errors.get()).values.filter(
    (v) => v.labels.component === 'relay-test' && v.labels.code === 'socket',
  );
  assert.equal(
    errors.reduce((sum, v) => sum + v.value, 0),
    1,
  );
});
