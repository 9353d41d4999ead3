/**
 * The broker's connections send a turn's packets in one write (listeners.ts `coalesceWrites`):
 * aedes forwards each message from its own setImmediate and mqtt-packet uncorks each packet on
 * the next tick, so a burst of 64 forwards was 64 system calls to the subscriber. Checked on a
 * real TCP connection, writing the way mqtt-packet does; and a write followed by a close (aedes
 * after a refusing CONNACK) still delivers its bytes.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { coalesceWrites } from '../../../../gateway/sources/mqtt-broker/listeners.ts';
import { waitFor } from '../../../support/env.ts';

/** One write as mqtt-packet's writeToStream makes it: corked until the next tick. */
function writePacket(socket: net.Socket, bytes: Buffer): void {
  socket.cork();
  socket.write(bytes);
  process.nextTick(() => socket.uncork());
}

describe('a broker connection writes a turn of packets at once', () => {
  let server: net.Server;
  const accepted: net.Socket[] = [];
  before(async () => {
    server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A connected pair: the server's end (as the broker holds it) and the client's, with what it read. */
  async function connect(coalesce: boolean) {
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((resolve) => client.once('connect', resolve));
    const socket = await waitFor(() => accepted.shift());
    if (coalesce) coalesceWrites(socket);
    // Count what reaches the socket's handle: one call per system write.
    let writes = 0;
    const s = socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
    for (const m of ['_write', '_writev'] as const) {
      const original = s[m].bind(socket);
      s[m] = (...a: unknown[]) => {
        writes += 1;
        return original(...a);
      };
    }
    const received = async (bytes: number) => {
      await waitFor(() => (Buffer.concat(chunks).length >= bytes ? true : undefined));
      return Buffer.concat(chunks);
    };
    return { socket, client, received, writes: () => writes };
  }

  /** 64 packets, each from its own setImmediate, as aedes forwards a burst. */
  async function burst(socket: net.Socket): Promise<Buffer> {
    const packets = Array.from({ length: 64 }, (_, i) =>
      Buffer.from(`packet ${String(i).padStart(2, '0')};`),
    );
    await Promise.all(
      packets.map(
        (p) => new Promise<void>((resolve) => setImmediate(() => (writePacket(socket, p), resolve()))),
      ),
    );
    return Buffer.concat(packets);
  }

  it('sends 64 packets forwarded from 64 immediates in one write, in order', async () => {
    const plain = await connect(false);
    const sent = await burst(plain.socket);
    assert.deepEqual(await plain.received(sent.length), sent);
    assert.ok(plain.writes() >= 32, `without it, about one write per packet: ${plain.writes()}`);

    const held = await connect(true);
    const again = await burst(held.socket);
    assert.deepEqual(await held.received(again.length), again);
    assert.equal(held.writes(), 1);
    plain.client.destroy();
    held.client.destroy();
  });

  it('delivers a packet written just before the connection is closed in a later immediate', async () => {
    const { socket, client, received } = await connect(true);
    const closed = new Promise((resolve) => client.once('end', resolve));
    writePacket(socket, Buffer.from('connack refused'));
    setImmediate(() => socket.destroy());
    assert.equal((await received(15)).toString(), 'connack refused');
    await closed;
    client.destroy();
  });
});
