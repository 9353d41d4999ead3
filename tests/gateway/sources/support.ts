/**
 * A fake SourceContext for source-level tests: `emit` records events (optionally holding them
 * until released, to prove acknowledgements wait for durability), real metrics, a silent logger.
 */
import pino from 'pino';
import { createGatewayMetrics } from '../../../gateway/metrics.ts';
import type { Source, SourceContext } from '../../../gateway/pipeline/types.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { waitFor } from '../../support/env.ts';

export interface RecordingContext extends SourceContext {
  events: PendingEvent[];
  /** While set, emit() does not resolve until `release()`. */
  hold: boolean;
  release(): void;
  waitEvent(pred: (e: PendingEvent) => boolean, what?: string, timeoutMs?: number): Promise<PendingEvent>;
  byAction(action: string): PendingEvent[];
}

export function recordingContext(): RecordingContext {
  const waiting: Array<() => void> = [];
  const ctx: RecordingContext = {
    events: [],
    hold: false,
    metrics: createGatewayMetrics('gw-test', { processMetrics: false }),
    logger: pino({ level: process.env.SIEM_TEST_LOG ?? 'silent' }),
    now: () => new Date(),
    async emit(events) {
      if (ctx.hold) await new Promise<void>((resolve) => waiting.push(resolve));
      ctx.events.push(...events);
    },
    release() {
      ctx.hold = false;
      for (const w of waiting.splice(0)) w();
    },
    waitEvent(pred, what = 'event', timeoutMs = 5000) {
      return waitFor(() => ctx.events.find(pred), { what, timeoutMs });
    },
    byAction: (action) => ctx.events.filter((e) => e.action === action),
  };
  return ctx;
}

export function portOf(source: Source, transport: 'tcp' | 'tls' | 'udp' = 'tcp'): number {
  const a = source.addresses().find((x) => x.transport === transport);
  if (!a) throw new Error(`${source.name} has no ${transport} address`);
  return a.port;
}
