/**
 * Work per turn of the event loop for the broker's sensor, not per publish. Pipeline emits: aedes
 * parses a whole socket read at once, so the publishes of one read reach the hooks in the same
 * synchronous run; their events go to the pipeline together, 32 at a time and the rest at the end
 * of that run (a microtask), in the order they came, written at once if any of them waits for its
 * PUBACK. The queue already wrote every urgent append of a turn in one write; what a batch saves
 * is the pipeline's work and promises per call. Each caller still hears when its own events are
 * durable, or that the write failed (then every caller of the batch does). Metrics: `oncePerTurn`.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EMIT_BATCH_EVENTS } from '../../pipeline/types.ts';

export type BatchedEmit = (events: PendingEvent[], ack: boolean) => Promise<void>;

export function createTurnBatcher(emit: BatchedEmit): BatchedEmit {
  let events: PendingEvent[] = [];
  let ack = false;
  let current: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;

  const flush = () => {
    if (!current) return; // handed on already, full
    const batch = events;
    const urgent = ack;
    const settle = current;
    events = [];
    ack = false;
    current = undefined;
    try {
      emit(batch, urgent).then(settle.resolve, settle.reject);
    } catch (error) {
      settle.reject(error as Error);
    }
  };

  return (more, wantsAck) => {
    if (!current) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      current = { promise, resolve, reject };
      queueMicrotask(flush);
    }
    const { promise } = current;
    for (const e of more) events.push(e);
    if (wantsAck) ack = true;
    if (events.length >= EMIT_BATCH_EVENTS) flush();
    return promise;
  };
}

/**
 * `run` once at the end of this turn of the event loop (its check phase), however often the
 * returned function is called in it: what changes per publish but is only read now and then (the
 * gauge and counters of /metrics, whose prom-client hashes the label set on every update).
 */
export function oncePerTurn(run: () => void): () => void {
  let scheduled = false;
  const fire = () => {
    scheduled = false;
    run();
  };
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(fire).unref();
  };
}
