/**
 * The listening socket of a stream source (syslog over TCP or TLS, RELP): plain TCP, or TLS 1.2+
 * with client certificates required exactly when a CA is configured (server-shared/config/tls.ts);
 * at most `max_connections` at once (Node refuses the rest at accept); a connection silent for
 * `idle_timeout_secs` is closed; each open connection is in the source's connection gauge, and
 * socket errors and failed TLS handshakes are counted. The source gets each connection once it is
 * set up, and speaks its protocol on it; `stop` closes the listener and its connections.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TlsServerConfig } from '../../../server-shared/config/tls.ts';
import { parseListen, tlsServerOptions } from '../../config/common.ts';
import type { SourceAddress, SourceContext } from '../../pipeline/types.ts';

export interface TcpListenerOptions {
  /** The source's name: its metrics' label. */
  name: string;
  ctx: SourceContext;
  config: {
    listen: string;
    max_connections: number;
    idle_timeout_secs: number;
  };
  /** TLS when set. */
  tls?: TlsServerConfig;
  /** Names the source in its debug log lines (`<what> connection error`). */
  what: string;
  /**
   * How `stop` ends the open connections: with a FIN, each destroyed if still open after this
   * many ms (the peer's last frames are still read); destroyed at once when not set.
   */
  stopGraceMs?: number;
  onConnection(socket: net.Socket): void;
}

export interface TcpListener {
  readonly transport: 'tcp' | 'tls';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Where it listens, once started. */
  addresses(): SourceAddress[];
}

export function createTcpListener(options: TcpListenerOptions): TcpListener {
  const { name, ctx, config } = options;
  const transport = options.tls ? 'tls' : 'tcp';
  const { host, port } = parseListen(config.listen);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let address: SourceAddress | undefined;
  const gauge = () => ctx.metrics.connections.set({ source: name }, sockets.size);

  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    gauge();
    socket.setTimeout(config.idle_timeout_secs * 1000, () => socket.destroy());
    socket.on('error', (error) => {
      ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'socket' });
      ctx.logger.debug({ err: error.message }, `${options.what} connection error`);
    });
    socket.on('close', () => {
      sockets.delete(socket);
      gauge();
    });
    options.onConnection(socket);
  };

  return {
    transport,
    async start() {
      if (options.tls) {
        server = tls.createServer(tlsServerOptions(options.tls), onConnection);
        server.on('tlsClientError', () =>
          ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'tls_handshake' }),
        );
      } else server = net.createServer(onConnection);
      server.maxConnections = config.max_connections;
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const bound = s.address() as net.AddressInfo;
      address = { transport, host: bound.address, port: bound.port };
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      const grace = options.stopGraceMs;
      if (grace === undefined) {
        for (const socket of sockets) socket.destroy();
        await closed;
        return;
      }
      for (const socket of sockets) socket.end();
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, grace);
      await closed;
      clearTimeout(timer);
    },
    addresses: () => (address ? [address] : []),
  };
}
