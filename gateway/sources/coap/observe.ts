/**
 * Observation of resources on devices (RFC 7641): a GET with Observe registers the gateway, each
 * notification becomes telemetry (through the same sampler as POSTed readings), and an
 * observation that ends or fails is re-registered after `retry_secs`, with a health event.
 */
import coap from 'coap';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { SourceContext } from '../../pipeline/types.ts';
import type { TelemetrySampler } from '../telemetry/sampler.ts';
import type { CoapSourceConfig } from './config.ts';
import { coapEvent } from '../../../protocols/coap/to-event.ts';

export function startObservations(
  name: string,
  config: CoapSourceConfig,
  ctx: SourceContext,
  telemetry: TelemetrySampler,
  emitLater: (events: PendingEvent[]) => void,
): () => void {
  let stopped = false;
  const cleanups: Array<() => void> = [];
  // Own agents (one per address family), so stopping the source closes their sockets too.
  const agents = new Map<'udp4' | 'udp6', InstanceType<typeof coap.Agent>>();
  const agentFor = (family: 'udp4' | 'udp6') => {
    let a = agents.get(family);
    if (!a) {
      a = new coap.Agent({ type: family });
      agents.set(family, a);
    }
    return a;
  };

  for (const target of config.observe) {
    const url = new URL(target.endpoint);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const peer = { ip: host, port: Number(url.port || 5683) };
    const topic = decodeURIComponent(url.pathname.slice(1));
    let timer: NodeJS.Timeout | undefined;
    let current: { close(eager?: boolean): void } | undefined;

    const health = (
      action: string,
      severity: number,
      message: string,
      fields: Record<string, unknown> = {},
    ) =>
      emitLater([
        coapEvent(
          { action, kind: 'health', severity, message, fields: { endpoint: target.endpoint, ...fields } },
          peer,
          undefined,
          ctx.now(),
          name,
        ),
      ]);

    const retry = (why: string) => {
      if (stopped) return;
      health('coap.observe_lost', 4, `observation of ${target.endpoint} ended: ${why}`, { reason: why });
      timer = setTimeout(register, target.retry_secs * 1000);
      timer.unref();
    };

    const register = () => {
      if (stopped) return;
      const agent = agentFor(host.includes(':') ? 'udp6' : 'udp4');
      const req = coap.request({
        hostname: host,
        port: peer.port,
        pathname: url.pathname,
        method: 'GET',
        observe: true,
        confirmable: true,
        agent,
      });
      req.on('response', (res) => {
        current = res as unknown as { close(eager?: boolean): void };
        if (!res.code.startsWith('2')) return retry(`response ${res.code}`);
        health('coap.observe_started', 6, `observing ${target.endpoint}`, { response_code: res.code });
        const onData = (chunk: Buffer) => {
          const now = ctx.now();
          const outcome = telemetry.accept({ topic, device: target.endpoint, payload: chunk });
          const fields =
            outcome.kind === 'event'
              ? outcome.fields
              : { payload_text: chunk.toString('utf8').slice(0, 1024) };
          emitLater([
            coapEvent(
              {
                action: 'coap.telemetry',
                kind: 'telemetry',
                severity: 6,
                message: `${url.pathname} ${chunk.toString('utf8').slice(0, 200)}`,
                fields: {
                  endpoint: target.endpoint,
                  path: url.pathname,
                  observed: true,
                  payload_bytes: chunk.length,
                  ...fields,
                },
              },
              peer,
              undefined,
              now,
              name,
            ),
          ]);
        };
        // The stream yields the registration response's payload first, then each notification.
        res.on('data', onData);
        res.on('end', () => retry('observation ended'));
      });
      req.on('error', (e: Error) => {
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'coap_observe' });
        retry(e.message);
      });
      req.end();
    };
    register();
    cleanups.push(() => {
      clearTimeout(timer);
      try {
        current?.close(false); // forget it; the agent closes below, the device sees the next notification refused (RFC 7641 §3.6)
      } catch {
        // already gone
      }
    });
  }
  return () => {
    stopped = true;
    for (const c of cleanups) c();
    for (const a of agents.values()) {
      try {
        a.close();
      } catch {
        // the agent already closed its socket when its last observation ended
      }
    }
  };
}
