/**
 * A TCP proxy on an ephemeral loopback port in front of a real server, for the faults a network
 * or a hung peer makes: every connection cut at once (`cutAll`), each connection cut after a
 * number of bytes towards the server (`cutAfterBytes`, mid-frame), or everything frozen both ways
 * once `freezeAfterBytes` went towards the server (a paused VM: the connections stay open and
 * nothing passes).
 */
import net from 'node:net';

export interface TcpProxyOptions {
  /** Bytes a connection may send towards the server; the rest of the chunk is dropped, both ends destroyed. */
  cutAfterBytes?: () => number;
  /** Bytes towards the server, over all connections, after which nothing passes either way. */
  freezeAfterBytes?: number;
}

export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Connections cut by `cutAfterBytes` so far. */
  readonly cuts: number;
  /** Whether `freezeAfterBytes` was reached. */
  readonly frozen: boolean;
  /** Destroys every open connection; the proxy keeps accepting. */
  cutAll(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

export async function startTcpProxy(
  target: { host: string; port: number },
  options: TcpProxyOptions = {},
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let toServer = 0;
  let frozen = false;
  let cuts = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    let budget = options.cutAfterBytes?.() ?? Infinity;
    client.on('data', (chunk: Buffer) => {
      toServer += chunk.length;
      if (options.freezeAfterBytes !== undefined && toServer > options.freezeAfterBytes) frozen = true;
      if (frozen || budget <= 0) return;
      budget -= chunk.length;
      if (budget > 0) {
        upstream.write(chunk);
        return;
      }
      cuts += 1;
      upstream.write(chunk.subarray(0, chunk.length + budget), () => {
        client.destroy();
        upstream.destroy();
      });
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!frozen) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cutAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.host = `127.0.0.1:${port}`;
      return u.toString();
    },
    get cuts() {
      return cuts;
    },
    get frozen() {
      return frozen;
    },
    cutAll,
    close() {
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
