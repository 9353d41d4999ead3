/**
 * The Modbus/TCP inline proxy source: HMIs and engineering stations connect to `listen` instead of
 * the PLC; each connection gets its own upstream connection to the PLC (connection.ts: decoding,
 * the enforce-mode gate and flow control). This file owns the listening socket and its lifecycle.
 */
import net from 'node:net';
import { parseListen } from '../../config/common.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import type { ModbusProxySourceConfig } from './config.ts';
import { handleConnection } from './connection.ts';
import { createValueCache } from './values.ts';

export function createModbusProxySource(
  name: string,
  config: ModbusProxySourceConfig,
  ctx: SourceContext,
): Source {
  let server: net.Server | undefined;
  let address: SourceAddress | undefined;
  const sockets = new Set<net.Socket>();
  const values = createValueCache();
  const listen = parseListen(config.listen);
  const upstream = parseListen(config.endpoint);

  const onConnection = (client: net.Socket) => {
    sockets.add(client);
    ctx.metrics.connections.set({ source: name }, sockets.size);
    client.on('close', () => {
      sockets.delete(client);
      ctx.metrics.connections.set({ source: name }, sockets.size);
    });
    handleConnection(client, { name, config, ctx, values, upstream });
  };

  return {
    name,
    type: 'modbus_proxy',
    async start() {
      const s = net.createServer(onConnection);
      server = s;
      s.maxConnections = config.max_connections;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(listen.port, listen.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const bound = s.address() as net.AddressInfo;
      address = { transport: 'tcp', host: bound.address, port: bound.port };
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    addresses: () => (address ? [address] : []),
  };
}
