/**
 * The broker's sockets: a plain TCP and/or a TLS listener, each connection registered with its
 * addresses (and verified client certificate name) before it is handed to aedes. Reads are
 * watched by the MQTT frame scanner, which sees each packet's declared length as soon as its
 * fixed header arrives: a packet over `max_packet_bytes` closes the connection before its body
 * is buffered (aedes' parser would otherwise collect up to 256 MB). While the publish gate is
 * closed (backpressure.ts: too many publishes waiting for the durable write) a connected client's
 * read returns nothing and its socket is parked; aedes reads it again when the gate opens.
 */
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { Aedes, Client } from 'aedes';
import { normalizeIp } from '../../../protocols/event/address.ts';
import { createMqttFrameScanner } from '../../../protocols/mqtt/framing.ts';
import type { MqttError } from '../../../protocols/mqtt/types.ts';
import { parseListen, tlsServerOptions } from '../../config/common.ts';
import type { SourceAddress } from '../../pipeline/types.ts';
import type { PublishGate } from './backpressure.ts';
import type { MqttBrokerSourceConfig } from './config.ts';
import type { ConnInfo } from './events.ts';

/**
 * aedes writes each packet on its own (mqtt-packet corks one packet until the next tick) and
 * forwards each message from its own setImmediate, so a burst (a durable write that releases 64
 * PUBACKs, then their 64 forwards) was a system call per packet to each subscriber. Held corked
 * until the next check phase of the event loop, a connection's packets of one turn leave in one
 * write. Every setImmediate aedes schedules after a write (write.js: its callback, a close after
 * a refusing CONNACK) runs after this one, so nothing is destroyed while still held.
 */
export function coalesceWrites(socket: net.Socket): void {
  const write = socket.write;
  let held = false;
  const release = () => {
    held = false;
    socket.uncork();
  };
  socket.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
    if (!held) {
      held = true;
      socket.cork();
      setImmediate(release);
    }
    return write.apply(this, args);
  } as net.Socket['write'];
}

export interface ListenerHooks {
  register(socket: net.Socket, info: ConnInfo): void;
  onConnection(info: ConnInfo): void;
  onGuardError(info: ConnInfo, error: MqttError): void;
  gate: PublishGate;
}

function guardReads(
  socket: net.Socket,
  info: ConnInfo,
  maxPacketBytes: number,
  onError: (e: MqttError) => void,
  gate: PublishGate,
  resume: () => void,
) {
  const scanner = createMqttFrameScanner({ maxPacketBytes });
  const read = socket.read.bind(socket);
  // aedes pulls with socket.read(); wrapping that one method costs no extra stream or copy.
  socket.read = ((size?: number) => {
    // read(0) only starts the socket's own reading and never returns data: it is not held back.
    // Nor is a connection before its CONNACK: its CONNECT is read, so that it is answered within
    // the client's connect timeout (mqtt.js publishes nothing before the CONNACK).
    if (gate.closed && size !== 0 && info.connectedAt !== undefined) {
      gate.park(socket, resume);
      return null;
    }
    const chunk: unknown = read(size);
    if (chunk instanceof Uint8Array) {
      info.chunkAtBoundary = scanner.pending === 0;
      info.lastChunk = chunk;
      const r = scanner.push(chunk);
      if (r.error) {
        onError(r.error);
        socket.destroy();
        return null;
      }
    }
    return chunk;
  }) as typeof socket.read;
}

function certCommonName(socket: tls.TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN as string | string[] | undefined;
  return Array.isArray(cn) ? cn[0] : cn;
}

export async function startListeners(
  broker: Aedes,
  config: MqttBrokerSourceConfig,
  hooks: ListenerHooks,
): Promise<{ servers: net.Server[]; addresses: SourceAddress[]; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const accept = (socket: net.Socket, transport: 'tcp' | 'tls') => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      hooks.gate.forget(socket);
    });
    const info: ConnInfo = {
      ip: normalizeIp(socket.remoteAddress),
      port: socket.remotePort ?? 0,
      localIp: normalizeIp(socket.localAddress),
      localPort: socket.localPort ?? 0,
      transport,
      acl: { publish: new Map(), subscribe: new Map() },
    };
    if (transport === 'tls') info.certCn = certCommonName(socket as tls.TLSSocket);
    hooks.register(socket, info);
    hooks.onConnection(info);
    // aedes' Client#resume() (not in its types) reads the socket again: it was parked between reads,
    // which can only happen once aedes reads it, after handle() returned.
    const resume = () => client.resume();
    guardReads(socket, info, config.max_packet_bytes, (e) => hooks.onGuardError(info, e), hooks.gate, resume);
    coalesceWrites(socket);
    const client = broker.handle(socket) as Client & { resume(): void };
    // Parser errors reach aedes as a generic client error; note them first, to report a malformed packet.
    const parser = (client as unknown as { _parser?: EventEmitter })._parser;
    parser?.prependListener('error', (e: Error) => {
      info.malformed ??= e.message;
    });
  };

  const servers: net.Server[] = [];
  const addresses: SourceAddress[] = [];
  const listen = async (server: net.Server, listenAt: string, transport: 'tcp' | 'tls') => {
    server.maxConnections = config.max_connections;
    const { host, port } = parseListen(listenAt);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    servers.push(server);
    const bound = server.address() as net.AddressInfo;
    addresses.push({ transport, host: bound.address, port: bound.port });
  };

  if (config.listen)
    await listen(
      net.createServer((s) => accept(s, 'tcp')),
      config.listen,
      'tcp',
    );
  if (config.tls) {
    const t = config.tls;
    const server = tls.createServer(tlsServerOptions(t), (s) => accept(s, 'tls'));
    await listen(server, t.listen, 'tls');
  }
  return { servers, addresses, sockets };
}
