/**
 * The socket pair of an inline proxy: a client's connection and the proxy's own connection to
 * the device behind it. What is read either way goes to the proxy's hooks (which decode, screen
 * and forward); this file owns the plumbing both inline proxies share: the upstream connect with
 * its timeout, bytes written before it is up held and sent once it is, `drain` and `connect`
 * reported so the proxy can re-decide which side reads, the idle timeout, and close handling.
 *
 * Close handling comes in two kinds. `halfClose` (a byte-transparent relay): a FIN from one side
 * is passed on to the other, which may still answer; an error or reset on one side resets the
 * other, a clean close lets the other side drain. Without it (a proxy that speaks the protocol),
 * the two connections are one session: when either goes, so does the other.
 */
import net from 'node:net';
import { normalizeIp } from '../../../protocols/event/address.ts';
import type { SourceContext } from '../../pipeline/types.ts';

/** What both proxies' connection handlers are given: the source, its device and its limits. */
export interface TcpRelayTarget {
  /** The source's name, for its error counters. */
  name: string;
  ctx: SourceContext;
  upstream: { host: string; port: number };
  /** The connect's timeout; no byte either way for `idle_timeout_secs` closes both connections. */
  config: { connect_timeout_secs: number; idle_timeout_secs: number };
}

export interface TcpRelayOptions {
  halfClose: boolean;
  /** Bytes read from the client. Forward them with `relay.send`. */
  onClientData(chunk: Buffer): void;
  /** Bytes read from the device. */
  onUpstreamData(chunk: Buffer): void;
  /** A socket drained, or the device connected: re-decide which side reads. */
  onWritable(): void;
  /** The device connection failed: before it was up (`connected` false) or after. */
  onUpstreamError(error: Error, connected: boolean): void;
  /** The connection was idle for `idle_timeout_secs`; both sockets are destroyed after this. */
  onIdle?(): void;
  /** The client's socket closed. */
  onClientClose?(): void;
  /** Both sockets are closed: called once. */
  onEnd?(): void;
}

export interface TcpRelay {
  /** The client's address, as events name it. */
  readonly peer: { ip: string; port: number };
  readonly upstream: net.Socket;
  /** Writes toward the device; held until the connection is up. */
  send(bytes: Uint8Array): void;
  /** Bytes on their way to the device: held before the connect, plus the socket's write buffer. */
  upstreamBacklog(): number;
}

export function openTcpRelay(client: net.Socket, target: TcpRelayTarget, options: TcpRelayOptions): TcpRelay {
  const { name, ctx, config } = target;
  const { halfClose } = options;
  client.setNoDelay(true);
  const peer = { ip: normalizeIp(client.remoteAddress), port: client.remotePort ?? 0 };
  const upstream = net.connect({
    host: target.upstream.host,
    port: target.upstream.port,
    timeout: config.connect_timeout_secs * 1000,
    allowHalfOpen: halfClose,
  });
  upstream.setNoDelay(true);
  let connected = false;
  let clientEnded = false;
  const held: Uint8Array[] = [];
  let heldBytes = 0;

  const send = (bytes: Uint8Array): void => {
    if (connected) upstream.write(bytes);
    else {
      held.push(bytes);
      heldBytes += bytes.length;
    }
  };

  client.on('data', options.onClientData);
  client.on('drain', options.onWritable);
  client.on('error', () => ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'socket' }));

  upstream.on('connect', () => {
    connected = true;
    upstream.setTimeout(0); // the timeout was the connect's
    for (const b of held.splice(0)) upstream.write(b);
    heldBytes = 0;
    if (clientEnded) upstream.end();
    options.onWritable();
  });
  upstream.on('data', options.onUpstreamData);
  upstream.on('drain', options.onWritable);
  upstream.on('timeout', () => upstream.destroy(new Error('connect timeout')));
  upstream.on('error', (error) => options.onUpstreamError(error, connected));

  let sides = 2;
  const closed = () => {
    if (--sides === 0) options.onEnd?.();
  };
  if (halfClose) {
    client.on('end', () => {
      clientEnded = true;
      if (connected) upstream.end();
    });
    upstream.on('end', () => client.end());
    upstream.on('close', (hadError) => {
      if (hadError || !connected) client.destroy();
      else client.end();
      closed();
    });
    client.on('close', (hadError) => {
      if (hadError) upstream.destroy();
      else upstream.end();
      options.onClientClose?.();
      closed();
    });
  } else {
    upstream.on('close', () => {
      client.destroy();
      closed();
    });
    client.on('close', () => {
      upstream.destroy();
      options.onClientClose?.();
      closed();
    });
  }
  // Node refreshes the timer on reads and on writes: relayed bytes either way keep it alive.
  client.setTimeout(config.idle_timeout_secs * 1000, () => {
    options.onIdle?.();
    client.destroy();
    upstream.destroy();
  });

  return { peer, upstream, send, upstreamBacklog: () => heldBytes + upstream.writableLength };
}
