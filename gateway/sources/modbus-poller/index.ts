/**
 * The Modbus poller source: the gateway as master, reading one device's register map every
 * `poll_interval_ms` over Modbus/TCP or RTU. A cycle runs its reads one after another (a serial
 * line carries one transaction at a time, Serial Line §2.1), then evaluate.ts turns the outcomes
 * into events: one `modbus.poll` telemetry event per cycle with every value, and security events
 * for set-point changes, range violations, exceptions and an unreachable device. Cycles never
 * overlap; a lost connection is reopened on the next cycle.
 */
import { performance } from 'node:perf_hooks';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { parseListen } from '../../config/common.ts';
import type { Source, SourceContext } from '../../pipeline/types.ts';
import { openPollClient, type PollClient } from './client.ts';
import type { ModbusPollerSourceConfig } from './config.ts';
import { type BlockOutcome, createPollerState, type PollerIdentity } from './evaluate.ts';
import { planReads } from './registers.ts';

export { modbusPollerSourceSchema, type ModbusPollerSourceConfig } from './config.ts';

export function createModbusPoller(
  name: string,
  config: ModbusPollerSourceConfig,
  ctx: SourceContext,
): Source {
  const blocks = planReads(config.points, config.max_gap);
  const tcp = config.transport === 'tcp' ? parseListen(config.endpoint!) : undefined;
  const identity: PollerIdentity = tcp
    ? { name, transport: 'tcp', endpoint: config.endpoint!, peer: { ip: tcp.host, port: tcp.port } }
    : { name, transport: 'rtu', endpoint: config.serial!.path };
  const state = createPollerState(config, identity);
  let client: PollClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  const emit = (events: PendingEvent[]) => {
    if (events.length === 0) return;
    ctx.metrics.received.inc({ source: name }, events.length);
    ctx.emit(events).catch((error: Error) => {
      ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
      ctx.logger.error({ err: error.message }, 'queue write failed');
    });
  };

  const poll = async (): Promise<void> => {
    const started = performance.now();
    const outcomes: BlockOutcome[] = [];
    if (!client?.isOpen()) {
      await client?.close();
      client = undefined;
      try {
        client = await openPollClient(config);
      } catch (error) {
        const message = (error as Error).message;
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'connect' });
        ctx.logger.debug({ err: message, endpoint: identity.endpoint }, 'Modbus device not reachable');
        for (const block of blocks) outcomes.push({ block, ok: false, error: message });
      }
    }
    if (client) {
      for (const block of blocks) {
        if (stopped) return;
        const outcome = await client.read(block);
        outcomes.push(outcome);
        if (!outcome.ok && 'error' in outcome) {
          ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'no_response' });
          // The rest of this cycle would time out the same way: report the cycle as failed.
          for (const rest of blocks.slice(outcomes.length))
            outcomes.push({ block: rest, ok: false, error: outcome.error });
          break;
        }
        if (!outcome.ok) ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'exception' });
      }
    }
    if (stopped) return;
    emit(state.cycle(outcomes, ctx.now(), Math.round((performance.now() - started) * 10) / 10));
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      const started = performance.now();
      running = poll()
        .catch((error: Error) => {
          ctx.metrics.errors.inc({ component: name, stage: 'processing', code: 'poll' });
          ctx.logger.error({ err: error.message }, 'poll failed');
        })
        .finally(() => {
          running = undefined;
          schedule(Math.max(0, config.poll_interval_ms - (performance.now() - started)));
        });
    }, delayMs);
  };

  return {
    name,
    type: 'modbus_poller',
    async start() {
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await client?.close();
      client = undefined;
    },
    addresses: () => [],
  };
}
