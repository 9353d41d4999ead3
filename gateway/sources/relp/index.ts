/**
 * The `relp` source: rsyslog's Reliable Event Logging Protocol over TCP or TLS (omrelp → the
 * gateway). Each `syslog` transaction becomes a syslog event and is answered `200 OK` only once
 * that event is durable in the queue, so a sender never drops a line the gateway has not stored;
 * a crash between the write and the answer is absorbed by the ledger's retransmission check
 * (ledger.ts). Sessions are bounded (connections, idle time, window, message size), and protocol
 * errors become rate-limited `relp.protocol_error` events.
 */
import type net from 'node:net';
import { normalizeIp } from '../../../protocols/event/address.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { RelpFrame } from '../../../protocols/relp/index.ts';
import { parseSyslog, syslogErrorToEvent, syslogToEvent } from '../../../protocols/syslog/index.ts';
import type { Source, SourceContext } from '../../pipeline/types.ts';
import { createTcpListener } from '../shared/tcp-listener.ts';
import type { RelpSourceConfig } from './config.ts';
import { createLedgers } from './ledger.ts';
import { runSession } from './session.ts';

export function createRelpSource(name: string, config: RelpSourceConfig, ctx: SourceContext): Source {
  const transport = config.tls ? 'tls' : 'tcp';
  const ledgers = createLedgers({ name, window: config.dedupe_window, ctx, maxPeers: config.dedupe_peers });
  let errorWindow = 0;
  let errorsInWindow = 0;

  const protocolError = (peer: { ip: string; port: number }, code: string, message: string) => {
    ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: `relp_${code}` });
    const now = ctx.now();
    if (now.getTime() - errorWindow >= 1000) {
      errorWindow = now.getTime();
      errorsInWindow = 0;
    }
    if (++errorsInWindow > config.max_error_events_per_sec) return;
    const at = now.toISOString();
    const event: PendingEvent = {
      ts: at,
      received: at,
      source: 'syslog',
      kind: 'security',
      action: 'relp.protocol_error',
      severity: 4,
      message: `RELP session from ${peer.ip}:${peer.port} ended: ${message}`.slice(0, 1024),
      src: peer,
      fields: {
        code,
        error: message.slice(0, 512),
        transport: `relp${transport === 'tls' ? '+tls' : ''}`,
        collector: name,
      },
      tags: ['relp'],
    };
    ctx.emit([event]).catch((error: Error) => {
      ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' });
      ctx.logger.debug({ err: error.message }, 'relp error event not queued');
    });
  };

  const decoder = (peer: { ip: string; port: number }) => (frames: RelpFrame[]) => {
    const received = ctx.now();
    const eventCtx = { received, peer, transport } as const;
    return frames.map((frame) => {
      const parsed = parseSyslog(frame.data, { now: received, maxBytes: config.max_message_bytes });
      let event: PendingEvent;
      if (parsed.ok) event = syslogToEvent(parsed.message, eventCtx);
      else {
        ctx.metrics.errors.inc({ component: name, stage: 'processing', code: parsed.error.code });
        event = syslogErrorToEvent(parsed.error, frame.data, eventCtx);
      }
      event.fields.transport = transport === 'tls' ? 'relp+tls' : 'relp';
      if (frame.truncated) {
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'relp_truncated' });
        event.fields.relp_declared_bytes = frame.truncated.declaredBytes;
        event.tags = [...event.tags, 'truncated'];
      }
      return event;
    });
  };

  const onConnection = (socket: net.Socket) => {
    const peer = { ip: normalizeIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
    // Answers are small and the sender's window waits on them: no Nagle delay.
    socket.setNoDelay(true);
    runSession(socket, {
      config,
      ledger: ledgers.for(peer.ip),
      decode: decoder(peer),
      onError: (code, message) => protocolError(peer, code, message),
      onOpen: (software) => ctx.logger.debug({ peer, software }, 'relp session open'),
    });
  };

  // stop() destroys the sessions at once: unanswered frames stay with the sender, which sends them again.
  const listener = createTcpListener({
    name,
    ctx,
    config,
    ...(config.tls ? { tls: config.tls } : {}),
    what: 'relp',
    onConnection,
  });

  return {
    name,
    type: 'relp',
    async start() {
      await ledgers.load();
      await listener.start();
    },
    stop: () => listener.stop(),
    addresses: () => listener.addresses(),
  };
}
