/**
 * The TCP plumbing the simulated OT devices and their clients share (the DNP3 outstation and
 * master, the S7 PLC and HMI): a device's listening socket that closes with its connections, a
 * client's connect, the table of requests waiting for their answer (each resolved with the
 * answer, or undefined on its timeout or when the connection closes), and a client that polls
 * every so often over one connection, reconnecting when the device was not there or stopped
 * answering. The protocols themselves stay in their simulators.
 */
import net from 'node:net';

export interface TcpDeviceServer {
  port: number;
  /** Closes the listener and every open connection. */
  stop(): Promise<void>;
}

/** Listens on `host:port` (default 127.0.0.1, a free port); each connection goes to `onSocket`. */
export async function listenTcpDevice(
  o: { host?: string; port?: number },
  onSocket: (socket: net.Socket) => void,
): Promise<TcpDeviceServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // a client that resets is not the device's problem
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

export interface TcpClientOptions {
  host: string;
  port: number;
  localAddress?: string;
}

/** A connected client socket (no Nagle delay: requests are small and wait on their answers). */
export async function connectTcpClient(o: TcpClientOptions): Promise<net.Socket> {
  const socket = net.connect({
    host: o.host,
    port: o.port,
    ...(o.localAddress && { localAddress: o.localAddress }),
  });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  return socket;
}

export interface PendingRequests<K, T> {
  /**
   * Registers `key` and calls `send`; resolves with what `answer(key, …)` gives, or undefined
   * after `timeoutMs` or once the socket is closed.
   */
  request(key: K, send: () => void): Promise<T | undefined>;
  /** The answer to `key`, if it is still awaited. */
  answer(key: K, value: T): void;
}

/** Requests on `socket` awaiting their answers, matched by key (a sequence number, a PDU reference). */
export function pendingRequests<K, T>(socket: net.Socket, timeoutMs: number): PendingRequests<K, T> {
  const waiting = new Map<K, (value: T | undefined) => void>();
  socket.on('close', () => {
    for (const resolve of waiting.values()) resolve(undefined);
    waiting.clear();
  });
  return {
    request: (key, send) =>
      new Promise<T | undefined>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(key);
          resolve(undefined);
        }, timeoutMs);
        waiting.set(key, (value) => {
          clearTimeout(timer);
          resolve(value);
        });
        if (socket.destroyed) return waiting.get(key)?.(undefined);
        send();
      }),
    answer(key, value) {
      const resolve = waiting.get(key);
      waiting.delete(key);
      resolve?.(value);
    },
  };
}

/**
 * Every `intervalMs` (and once at the start), `poll` over the connection `connect` makes; a poll
 * answering false, or a connect or poll that throws, drops the connection, and the next round
 * connects again. Rounds never overlap.
 */
export function startPolling<C extends { close(): void }>(o: {
  intervalMs: number;
  connect(): Promise<C>;
  poll(client: C): Promise<boolean>;
}): { stop(): void } {
  let client: C | undefined;
  let stopped = false;
  let busy = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      client ??= await o.connect();
      if (!(await o.poll(client))) {
        client.close();
        client = undefined;
      }
    } catch {
      client = undefined; // the device (or the proxy before it) is not there (yet): next round
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs);
  void tick();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      client?.close();
    },
  };
}
