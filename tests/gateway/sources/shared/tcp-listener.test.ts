/**
 * The listening socket the syslog (TCP/TLS) and RELP sources share, over real loopback sockets and
 * real certificates (openssl): it reports the port it bound, counts open connections in the
 * gauge, refuses connections beyond max_connections, closes a silent one after idle_timeout_secs,
 * counts socket errors and failed TLS handshakes, requires a client certificate exactly when a CA
 * is configured, and stops either at once or after a grace in which the peer's last bytes are
 * still read.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import {
  createTcpListener,
  type TcpListenerOptions,
} from '../../../../gateway/sources/shared/tcp-listener.ts';
import { requireTool } from '../../../support/env.ts';
import { makeTestPki, type TestPki } from '../../../support/tls.ts';
import { recordingContext } from '../support.ts';

const stops: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** A listener whose connections record what they read. */
async function listener(
  overrides: Partial<TcpListenerOptions> & { maxConnections?: number; idleSecs?: number },
) {
  const ctx = recordingContext();
  const received: string[] = [];
  const server = createTcpListener({
    name: 'listen-test',
    ctx,
    config: {
      listen: '127.0.0.1:0',
      max_connections: overrides.maxConnections ?? 8,
      idle_timeout_secs: overrides.idleSecs ?? 60,
    },
    what: 'test',
    onConnection: (socket) => {
      socket.on('data', (d: Buffer) => received.push(d.toString()));
    },
    ...overrides,
  });
  await server.start();
  stops.push(() => server.stop());
  const [address] = server.addresses();
  assert.ok(address);
  return { server, ctx, received, port: address.port, transport: address.transport };
}

type Ctx = ReturnType<typeof recordingContext>;
/** The listener's error count with `code`, or its connection gauge. */
const metric = async (ctx: Ctx, which: 'errors' | 'connections', code?: string) => {
  const values: Array<{ value: number; labels: Record<string, string | number | undefined> }> = (
    await ctx.metrics[which].get()
  ).values;
  return values
    .filter((v) => (code ? v.labels.code === code : v.labels.source === 'listen-test'))
    .reduce((sum, v) => sum + v.value, 0);
};

function connect(port: number, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Waits until `probe` holds, a turn of the event loop at a time (no wall-clock bound). */
async function until(probe: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await probe())) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('TCP: bound port, connection gauge, max_connections, and stop() closing connections at once', async () => {
  const { server, ctx, port, transport, received } = await listener({ maxConnections: 2 });
  assert.equal(transport, 'tcp');
  assert.equal(server.transport, 'tcp');
  const a = await connect(port);
  const b = await connect(port);
  a.write('from a');
  await until(async () => (await metric(ctx, 'connections')) === 2);
  await until(() => received.includes('from a'));
  // The third is accepted by the kernel and closed by Node at once.
  const c = await connect(port);
  c.on('error', () => {});
  await once(c, 'close');
  const closedA = once(a, 'close');
  const closedB = once(b, 'close');
  await server.stop();
  await Promise.all([closedA, closedB]);
  await until(async () => (await metric(ctx, 'connections')) === 0);
  assert.deepEqual(server.addresses(), [{ transport: 'tcp', host: '127.0.0.1', port }]);
  await server.stop(); // a second stop is harmless
});

test('a silent connection is closed after idle_timeout_secs; a socket error is counted', async () => {
  const { ctx, port } = await listener({ idleSecs: 0.05 });
  const quiet = await connect(port);
  quiet.on('error', () => {});
  await once(quiet, 'close');

  const { ctx: ctx2, port: port2, received } = await listener({});
  const rude = await connect(port2);
  rude.write('hello');
  await until(() => received.includes('hello'));
  rude.resetAndDestroy();
  await until(async () => (await metric(ctx2, 'errors', 'socket')) === 1);
  assert.equal(await metric(ctx, 'errors', 'socket'), 0);
});

test('stop() with a grace: the peer gets a FIN and its last bytes are still read', async () => {
  const { server, port, received } = await listener({ stopGraceMs: 60_000 });
  const client = await connect(port, true);
  await until(() => server.addresses().length === 1);
  client.on('end', () => client.end('last words'));
  await server.stop();
  assert.ok(received.includes('last words'));
});

test('stop() with a grace destroys a peer that stays after it', async () => {
  const { server, port } = await listener({ stopGraceMs: 20 });
  const client = await connect(port, true);
  client.on('error', () => {});
  const ended = once(client, 'end');
  // The listener closes only once its last connection is gone: stop() resolving is the proof.
  await server.stop();
  await ended;
  client.destroy();
});

describe('TLS', () => {
  let pki: TestPki;
  before((t) => {
    if (!requireTool(t, 'openssl', 'openssl')) return;
    pki = makeTestPki();
  });

  const tlsConnect = (port: number, options: tls.ConnectionOptions) =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: pki.read(pki.caFile), ...options }, () =>
        resolve(s),
      );
      s.once('error', reject);
    });

  test('TLS 1.2+ with the server certificate; a plain-TCP client is a counted handshake failure', async () => {
    const { ctx, port, transport, received } = await listener({
      tls: { cert_file: pki.serverCert, key_file: pki.serverKey },
    });
    assert.equal(transport, 'tls');
    const s = await tlsConnect(port, {});
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(s.getProtocol() ?? ''));
    s.write('secret');
    await until(() => received.includes('secret'));
    s.destroy();
    await assert.rejects(tlsConnect(port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));
    const failed = await metric(ctx, 'errors', 'tls_handshake');
    const plain = await connect(port);
    plain.on('error', () => {});
    plain.write('not a client hello\r\n\r\n');
    await until(async () => (await metric(ctx, 'errors', 'tls_handshake')) === failed + 1);
    assert.ok(!received.includes('not a client hello\r\n\r\n'));
  });

  test('with ca_file, a client certificate is required', async () => {
    const { port, received } = await listener({
      tls: { cert_file: pki.serverCert, key_file: pki.serverKey, ca_file: pki.caFile },
    });
    const withCert = await tlsConnect(port, { cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) });
    withCert.write('mutual');
    await until(() => received.includes('mutual'));
    withCert.destroy();
    // TLS 1.3 sends the refusal after the client's handshake ends: it shows up as the close.
    const without = await tlsConnect(port, {}).catch(() => undefined);
    if (without) {
      const closed = new Promise((resolve) => without.once('close', resolve));
      without.on('error', () => {}); // the server's certificate_required alert
      without.write('sneaky');
      await closed;
    }
    assert.ok(!received.includes('sneaky'));
  });
});
