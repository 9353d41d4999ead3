/**
 * Syslog over TCP (RFC 6587) and TLS (RFC 5425). Each connection gets its own deframer
 * (octet counting or LF framing, detected per frame); the socket pauses while too many of its
 * events are waiting for the queue, so a fast sender cannot make the gateway buffer without end.
 * Framing errors become rate-limited `syslog.parse_error` events (framing-errors.ts).
 */
import type net from 'node:net';
import { normalizeIp } from '../../../protocols/event/address.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { createSyslogDeframer } from '../../../protocols/syslog/index.ts';
import { EMIT_BATCH_EVENTS, type Source, type SourceContext } from '../../pipeline/types.ts';
import { createTcpListener } from '../shared/tcp-listener.ts';
import type { SyslogSourceConfig } from './config.ts';
import { decodeFrame } from './decode.ts';
import { createFramingErrorReporter } from './framing-errors.ts';

/**
 * Emits (slices of a read, below) waiting on the queue per connection before the socket is paused:
 * one being written, one gathering. More only keeps thousands of decoded events alive in the heap across collections
 * (each read is hundreds of events), which costs far more CPU in the collector than it gains;
 * the kernel's socket buffer holds the rest as bytes.
 */
const MAX_PENDING_EMITS = 2;
/** What a decoded frame's place in its read's list holds (handle, below). */
const DECODED = new Uint8Array(0);

export function createSyslogStreamSource(
  name: string,
  config: SyslogSourceConfig,
  ctx: SourceContext,
): Source {
  const transport = config.mode === 'tls' ? 'tls' : 'tcp';
  const framingErrors = createFramingErrorReporter({
    name,
    transport,
    maxPerSec: config.max_parse_error_events_per_sec,
    ctx,
  });

  const onConnection = (socket: net.Socket) => {
    const peer = { ip: normalizeIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
    const origin = { transport, peer, sourceName: name } as const;
    const deframer = createSyslogDeframer({ maxFrameBytes: config.max_message_bytes });
    let pending = 0;

    const handle = (result: ReturnType<typeof deframer.push>) => {
      framingErrors.report(result.errors, peer);
      const frames = result.frames;
      if (frames.length === 0) return;
      const received = ctx.now();
      for (let at = 0; at < frames.length; at += EMIT_BATCH_EVENTS) {
        const end = Math.min(frames.length, at + EMIT_BATCH_EVENTS);
        const events = new Array<PendingEvent>(end - at);
        for (let k = at; k < end; k++) {
          events[k - at] = decodeFrame(frames[k]!, origin, ctx, config.max_message_bytes, received);
          // Decoded: its view of the read dies now, not with the last frame of a read of hundreds
          // (held that long, a third of them were copied to V8's old space, issue 18).
          frames[k] = DECODED;
        }
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
      }
    };

    socket.on('data', (chunk: Buffer) => handle(deframer.push(chunk)));
    socket.on('end', () => handle(deframer.end()));
  };
  const listener = createTcpListener({
    name,
    ctx,
    config,
    ...(config.mode === 'tls' ? { tls: config.tls! } : {}),
    what: 'syslog',
    // A sender's last frames are still read after the FIN, for a second at most.
    stopGraceMs: 1000,
    onConnection,
  });

  return {
    name,
    type: 'syslog',
    start: () => listener.start(),
    async stop() {
      await listener.stop();
      framingErrors.stop(); // after the connections' last errors
    },
    addresses: () => listener.addresses(),
  };
}
