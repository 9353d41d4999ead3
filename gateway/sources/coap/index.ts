/**
 * The `coap` source: a CoAP server (npm coap) behind our socket gate (gate.ts), the request
 * handler with its security checks (server.ts), and observations of device resources
 * (observe.ts). Readings are handed on one by one: sampling and aggregation are pipeline stages.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import coap from 'coap';
import { normalizeIp } from '../../../protocols/event/address.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { matchTopic } from '../../../protocols/mqtt/topic.ts';
import { parseListen } from '../../config/common.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import { createTelemetrySampler } from '../telemetry/sampler.ts';
import type { CoapSourceConfig } from './config.ts';
import { createEchoGuard } from './echo.ts';
import { coapEvent, type Peer } from '../../../protocols/coap/to-event.ts';
import { CoapGate } from './gate.ts';
import { startObservations } from './observe.ts';
import { createRequestHandler } from './server.ts';

/** Wait this long for a reading to be durable before the library sends an empty ACK (RFC 7252 §5.2.2). */
const PIGGYBACK_MS = 1500;

export function createCoapSource(name: string, config: CoapSourceConfig, ctx: SourceContext): Source {
  let socket: dgram.Socket | undefined;
  let gate: CoapGate | undefined;
  let server: ReturnType<typeof coap.createServer> | undefined;
  let address: SourceAddress | undefined;
  let local: Peer | undefined;
  let stopObserving: (() => void) | undefined;
  const telemetry = createTelemetrySampler(config.telemetry, matchTopic);

  const emit = (events: PendingEvent[]) => ctx.emit(events);
  const emitLater = (events: PendingEvent[]) => {
    for (const e of events) ctx.metrics.sensorEvents.inc({ source: name, action: e.action });
    ctx.emit(events).catch((error: Error) => {
      ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
      ctx.logger.error({ err: error.message }, 'queue write failed');
    });
  };

  return {
    name,
    type: 'coap',
    async start() {
      const { host, port } = parseListen(config.listen);
      const s = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
      socket = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const bound = s.address();
      address = { transport: 'udp', host: bound.address, port: bound.port };
      local = { ip: normalizeIp(bound.address), port: bound.port };
      const g = new CoapGate(s, {
        maxMessageBytes: config.max_message_bytes,
        onMalformed: (error, bytes, ip, peerPort) => {
          ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: `coap_${error.code}` });
          emitLater([
            coapEvent(
              {
                action: 'coap.malformed',
                kind: 'security',
                severity: 4,
                message: `malformed CoAP message from ${ip}: ${error.message}`,
                fields: {
                  code: error.code,
                  error: error.message,
                  bytes: bytes.length,
                  preview_hex: Buffer.from(bytes.subarray(0, 64)).toString('hex'),
                  reset_sent: error.type === 'CON' && error.messageId !== undefined,
                },
                tags: ['malformed'],
              },
              { ip, port: peerPort },
              local,
              ctx.now(),
              name,
            ),
          ]);
        },
        onResponse: () => {},
      });
      gate = g;
      const handler = createRequestHandler({
        name,
        config,
        ctx,
        gate: () => gate,
        local: () => local,
        echo: createEchoGuard({ verifiedSecs: config.echo_verified_secs }),
        telemetry,
        emit,
        emitLater,
      });
      const srv = coap.createServer({ piggybackReplyMs: PIGGYBACK_MS });
      srv.on('request', handler);
      srv.on('error', (e: Error) => {
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'coap_server' });
        ctx.logger.warn({ err: e.message }, 'coap server error');
      });
      server = srv;
      await new Promise<void>((resolve) => srv.listen(g as unknown as dgram.Socket, () => resolve()));
      stopObserving = startObservations(name, config, ctx, telemetry, emitLater);
    },
    async stop() {
      stopObserving?.();
      server?.close();
      server = undefined;
      gate = undefined;
      const s = socket;
      socket = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    addresses: () => (address ? [address] : []),
  };
}
