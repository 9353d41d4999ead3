/**
 * Central's HTTP(S) listener: serves the Hono app on `http.listen`, over TLS when `http.tls` is set,
 * and says the base URL and the link's URL it is reachable at. `close()` ends open connections too.
 */
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { parseListen } from '../server-shared/config/listen.ts';
import { tlsServerOptions } from '../server-shared/config/tls.ts';
import type { CentralConfig } from './config/schema.ts';

export async function listenCentral(
  config: Pick<CentralConfig, 'http' | 'link'>,
  fetch: Parameters<typeof serve>[0]['fetch'],
) {
  const { host, port } = parseListen(config.http.listen);
  const tls = config.http.tls;
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(
      {
        fetch,
        hostname: host,
        port,
        ...(tls ? { createServer: createHttpsServer, serverOptions: tlsServerOptions(tls) } : {}),
      },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `${tls ? 'https' : 'http'}://${hostText}:${address.port}`,
    linkUrl: `${tls ? 'wss' : 'ws'}://${hostText}:${address.port}${config.link.path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
