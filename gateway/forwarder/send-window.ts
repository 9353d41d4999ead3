/**
 * The forwarder's flow control: the batches in flight (sent, not yet acked), how many may be, and
 * when the next may go. The window is the smallest of the configured `max_in_flight`, central's
 * `flow` message (SPEC §4.9) and a slow start after a link that dropped batches in flight; an
 * ack's `delay_ms` pauses sending. A batch central holds (SPEC §4.8: rows of a hung node's open
 * transaction) stays in flight but leaves its place in the window to the batches behind it, up
 * to `max_in_flight` of them. It also keeps the acked-events history behind /api/status's
 * ack rate.
 */
import type { GatewayMetrics } from '../metrics.ts';
import type { RecordRef } from '../queue/leveldb-queue.ts';

/** A batch in flight: what its ack deletes (the records' keys, not their bytes) and its event count. */
export type InFlight = { records: RecordRef[]; events: number };

/** The ack history kept for the ack rate: the last minute. */
const ACK_RATE_WINDOW_MS = 60_000;

export class SendWindow {
  readonly #maxInFlight: number;
  readonly #metrics: GatewayMetrics;
  readonly #inFlight = new Map<number, InFlight>();
  /** Batches in flight that central holds (SPEC §4.8): not counted against the window. */
  readonly #held = new Set<number>();
  /**
   * Slow start after a link that dropped batches in flight: half the batch size and a window of
   * one, growing back with each ack. On a WAN that keeps cutting long transfers, smaller batches
   * still get through instead of being resent whole forever.
   */
  #scale = 1;
  #slowWindow = Number.POSITIVE_INFINITY;
  /** Window set by central's flow control (SPEC §4.9); the effective window is the smaller one. */
  #centralWindow = Number.POSITIVE_INFINITY;
  /** Central asked for a pause (ack.delay_ms) until this time. */
  #pausedUntil = 0;
  #pauseTimer: NodeJS.Timeout | undefined;
  /** Acked event counts per second over the last minute, for the drain-time estimate. */
  #ackHistory: Array<{ at: number; events: number }> = [];

  constructor(maxInFlight: number, metrics: GatewayMetrics) {
    this.#maxInFlight = maxInFlight;
    this.#metrics = metrics;
  }

  /** Batches in flight. */
  get size(): number {
    return this.#inFlight.size;
  }

  /** The share of the configured batch size to send: 1, or less during a slow start. */
  get scale(): number {
    return this.#scale;
  }

  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  window(): number {
    return Math.min(this.#maxInFlight, this.#centralWindow, this.#slowWindow);
  }

  /** Whether another batch may go now. */
  open(now: number): boolean {
    return this.#inFlight.size - this.#held.size < this.window() && now >= this.#pausedUntil;
  }

  /** SPEC §4.8: central holds this batch until another transaction ends; at most `max_in_flight` such. */
  hold(batchId: number): void {
    if (this.#inFlight.has(batchId) && this.#held.size < this.#maxInFlight) this.#held.add(batchId);
  }

  add(batchId: number, batch: InFlight): void {
    this.#inFlight.set(batchId, batch);
    this.#metrics.inFlightBatches.set(this.#inFlight.size);
  }

  get(batchId: number): InFlight | undefined {
    return this.#inFlight.get(batchId);
  }

  /** An acked batch whose records are deleted: out of flight, and the slow start grows back. */
  settle(batchId: number, batch: InFlight): void {
    this.#inFlight.delete(batchId);
    this.#held.delete(batchId);
    this.#metrics.inFlightBatches.set(this.#inFlight.size);
    this.#ackHistory.push({ at: Date.now(), events: batch.events });
    this.#scale = Math.min(1, this.#scale * 2);
    this.#slowWindow = this.#scale >= 1 ? Number.POSITIVE_INFINITY : this.#slowWindow + 1;
  }

  /** SPEC §4.9: central's `flow` message. */
  setCentralWindow(maxInFlight: number): void {
    this.#centralWindow = maxInFlight;
  }

  /** SPEC §4.9: central asked us to wait before the next batch; `resume` runs when the wait is over. */
  pause(delayMs: number, resume: () => void): void {
    this.#metrics.throttled.inc();
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + delayMs);
    this.#armResume(resume);
  }

  /**
   * A timer counts from the event loop's cached time, which lags `Date.now()` after a busy tick,
   * so it can fire a few milliseconds before `pausedUntil`: `open()` would then refuse and
   * nothing would pump again (a stalled link). Early, it waits out the rest.
   */
  #armResume(resume: () => void): void {
    clearTimeout(this.#pauseTimer);
    const wait = this.#pausedUntil - Date.now();
    if (wait <= 0) {
      this.#pauseTimer = undefined;
      resume();
      return;
    }
    this.#pauseTimer = setTimeout(() => this.#armResume(resume), wait);
  }

  /** The link went down: what was in flight stays queued (and starts a slow start); central's limits lapse. */
  reset(): void {
    if (this.#inFlight.size > 0) {
      this.#scale = Math.max(1 / 64, this.#scale / 2);
      this.#slowWindow = 1;
    }
    this.#inFlight.clear();
    this.#held.clear();
    this.#metrics.inFlightBatches.set(0);
    this.#centralWindow = Number.POSITIVE_INFINITY;
    this.#pausedUntil = 0;
    clearTimeout(this.#pauseTimer);
  }

  /** Events acked per second over the last minute (0 when nothing was acked). */
  ackRatePerSec(now: number): number {
    this.#ackHistory = this.#ackHistory.filter((a) => now - a.at < ACK_RATE_WINDOW_MS);
    const acked = this.#ackHistory.reduce((sum, a) => sum + a.events, 0);
    const span = this.#ackHistory.length > 0 ? Math.max(1, (now - this.#ackHistory[0]!.at) / 1000) : 0;
    return span > 0 ? Math.round(acked / span) : 0;
  }
}
