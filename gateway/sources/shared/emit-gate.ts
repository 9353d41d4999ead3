/**
 * The events one connection has decoded, on their way to the pipeline with a bounded number of
 * emits in flight. A decoder pushes onto `events`; `flush` hands them over at once unless
 * `maxPendingEmits` emits are still waiting on the queue, in which case they keep gathering until
 * one settles. `behind()` tells the connection to stop reading: emits at their limit and enough
 * gathered behind them. So memory stays bounded and nothing read is dropped (the socket's kernel
 * buffer holds the rest as bytes), and a fast peer cannot make the gateway buffer without end.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { SourceContext } from '../../pipeline/types.ts';

/**
 * Emits waiting on the queue per connection: one being written, one more. More only keeps
 * thousands of decoded events alive across collections, which costs the collector more CPU than
 * it gains.
 */
export const MAX_PENDING_EMITS = 2;
/** Events gathered while those emits are in flight, before the connection stops reading. */
export const MAX_GATHERED_EVENTS = 512;

export interface EmitGateOptions {
  /** Called after each emit settles (and what waited was handed on): re-decide pausing. */
  onSettled(): void;
  maxPendingEmits?: number;
  maxGatheredEvents?: number;
}

export interface EmitGate {
  /** Gathered and not handed over yet. Push onto it; it is a new array after each flush. */
  readonly events: PendingEvent[];
  /** Emits at their limit and `maxGatheredEvents` gathered behind them: stop reading. */
  behind(): boolean;
  /** `maxGatheredEvents` gathered: worth a flush before decoding more. */
  full(): boolean;
  /**
   * Hands the gathered events to the pipeline, unless `maxPendingEmits` emits are in flight;
   * `force` (the connection is over) hands them over regardless.
   */
  flush(force?: boolean): void;
}

export function createEmitGate(ctx: SourceContext, options: EmitGateOptions): EmitGate {
  const maxPending = options.maxPendingEmits ?? MAX_PENDING_EMITS;
  const maxGathered = options.maxGatheredEvents ?? MAX_GATHERED_EVENTS;
  let gathered: PendingEvent[] = [];
  let pendingEmits = 0;

  const flush = (force = false): void => {
    if (gathered.length === 0 || (!force && pendingEmits >= maxPending)) return;
    const events = gathered;
    gathered = [];
    pendingEmits += 1;
    ctx
      .emit(events)
      // The pipeline counts what it could not queue (queue_full, queue_write_failed).
      .catch((error: Error) => ctx.logger.debug({ err: error.message }, 'events not queued'))
      .finally(() => {
        pendingEmits -= 1;
        flush();
        options.onSettled();
      });
  };

  return {
    get events() {
      return gathered;
    },
    behind: () => pendingEmits >= maxPending && gathered.length >= maxGathered,
    full: () => gathered.length >= maxGathered,
    flush,
  };
}
