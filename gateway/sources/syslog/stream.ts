/**
 * Syslog over TCP (RFC 6587) and TLS (RFC 5425). Each connection gets its own deframer
 * (octet counting or LF framing, detected per frame); the socket pauses while too many of its
 * events are waiting for the queue, so a fast sender cannot make the gateway buffer without end.
 * Framing errors become rate-limited `syslog.parse_error` events (framing-errors.ts).
 */
import net from 'node:net';
import tls from 'node:tls';
import { normalizeIp } from '../../../protocols/event/address.ts';
import { createSyslogDeframer } from '../../../protocols/syslog/index.ts';
import { parseListen, tlsServerOptions } from '../../config/common.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import type { SyslogSourceConfig } from './config.ts';
import { decodeFrame } from './decode.ts';
import { createFramingErrorReporter } from './framing-errors.ts';

/**
 * Emits waiting on the queue per connection before the socket is paused: one being written, one
 * gathering. More only keeps thousands of decoded events alive in the heap across collections
 * (each read is hundreds of events), which costs far more CPU in the collector than it gains;
 * the kernel's socket buffer holds the rest as bytes.
 */
const MAX_PENDING_EMITS = 2;

export function createSyslogStreamSource(
  name: string,
  config: SyslogSourceConfig,
  ctx: SourceContext,
): Source {
  let server: net.Server | undefined;
  let address: SourceAddress | undefined;
  const sockets = new Set<net.Socket>();
  const transport = config.mode === 'tls' ? 'tls' : 'tcp';
  const { host, port } = parseListen(config.listen);
  const framingErrors = createFramingErrorReporter({
    name,
    transport,
    maxPerSec: config.max_parse_error_events_per_sec,
    ctx,
  });

  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    ctx.metrics.connections.set({ source: name }, sockets.size);
    const peer = { ip: normalizeIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
    const origin = { transport, peer, sourceName: name } as const;
    const deframer = createSyslogDeframer({ maxFrameBytes: config.max_message_bytes });
    let pending = 0;

    const handle = (result: ReturnType<typeof deframer.push>) => {
      framingErrors.report(result.errors, peer);
      if (result.frames.length === 0) return;
      const received = ctx.now();
      const events = result.frames.map((frame) =>
        decodeFrame(frame, origin, ctx, config.max_message_bytes, received),
      );
      pending += 1;
      if (pending >= MAX_PENDING_EMITS) socket.pause();
      ctx
        .emit(events)
        // Counted and reported by the pipeline; TCP syslog has no application-level ack to withhold.
        .catch((error: Error) => ctx.logger.debug({ err: error.message }, 'events not queued'))
        .finally(() => {
          pending -= 1;
          if (pending < MAX_PENDING_EMITS && socket.isPaused()) socket.resume();
        });
    };

    socket.setTimeout(config.idle_timeout_secs * 1000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => handle(deframer.push(chunk)));
    socket.on('end', () => handle(deframer.end()));
    socket.on('error', (error) => {
      ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'socket' });
      ctx.logger.debug({ err: error.message }, 'syslog connection error');
    });
    socket.on('close', () => {
      sockets.delete(socket);
      ctx.metrics.connections.set({ source: name }, sockets.size);
    });
  };

  return {
    name,
    type: 'syslog',
    async start() {
      if (config.mode === 'tls') {
        const t = config.tls!;
        server = tls.createServer(tlsServerOptions(t), onConnection);
        server.on('tlsClientError', () =>
          ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'tls_handshake' }),
        );
      } else {
        server = net.createServer(onConnection);
      }
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
      for (const socket of sockets) socket.end();
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, 1000);
      await closed;
      clearTimeout(timer);
      framingErrors.stop(); // after the connections' last errors
    },
    addresses: () => (address ? [address] : []),
  };
}
