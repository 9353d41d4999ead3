/**
 * The OT inline proxy source: one listening socket per entry of `proxies`, each relaying its
 * clients to one device (connection.ts) and decoding the traffic with its own capture decoder
 * (capture/ot.ts), configured with the device's port as the protocol's server port so that
 * direction, sessions and events are decided as on a mirror port. Connections beyond
 * `max_connections` per listener are refused by the listener and counted.
 */
import net from 'node:net';
import { parseListen } from '../../config/common.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import { createOtCapture, type OtCapture, type OtCaptureOptions } from '../capture/ot.ts';
import type { OtProxyRoute, OtProxySourceConfig } from './config.ts';
import { relayConnection } from './connection.ts';

/** The capture decoder for one device: its protocol on the device's port, everything else off. */
export function proxyDecoder(route: OtProxyRoute, port: number, name: string): OtCapture {
  const only: OtCaptureOptions = {
    dnp3Ports: route.protocol === 'dnp3' ? [port] : [],
    s7commPorts: route.protocol === 's7comm' ? [port] : [],
    enipPorts: route.protocol === 'enip' ? [port] : [],
    opcuaPorts: route.protocol === 'opcua' ? [port] : [],
    bacnetPorts: [],
    extraFields: { proxy: name },
  };
  return createOtCapture(only);
}

interface Listener {
  server: net.Server;
  address?: SourceAddress;
  sockets: Set<net.Socket>;
}

export function createOtProxySource(name: string, config: OtProxySourceConfig, ctx: SourceContext): Source {
  const listeners: Listener[] = [];
  let open = 0;
  const gauge = () => ctx.metrics.connections.set({ source: name }, open);

  const startOne = async (route: OtProxyRoute) => {
    const upstream = parseListen(route.upstream);
    const decoder = proxyDecoder(route, upstream.port, name);
    let reads = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      sockets.add(client);
      open += 1;
      gauge();
      relayConnection(client, {
        name,
        route,
        config,
        ctx,
        upstream,
        decoder,
        nextRead: () => ++reads,
        onEnd: () => {
          sockets.delete(client);
          open -= 1;
          gauge();
        },
      });
    });
    server.maxConnections = config.max_connections;
    server.on('drop', () =>
      ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'max_connections' }),
    );
    const listener: Listener = { server, sockets };
    listeners.push(listener);
    const where = parseListen(route.listen);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where.port, where.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    listener.address = { transport: 'tcp', host: bound.address, port: bound.port };
  };

  return {
    name,
    type: 'ot_proxy',
    async start() {
      for (const route of config.proxies) await startOne(route);
    },
    async stop() {
      const all = listeners.splice(0);
      await Promise.all(
        all.map(async (l) => {
          const closed = new Promise<void>((resolve) => l.server.close(() => resolve()));
          for (const socket of l.sockets) socket.destroy();
          await closed;
        }),
      );
    },
    addresses: () => listeners.flatMap((l) => (l.address ? [l.address] : [])),
  };
}
