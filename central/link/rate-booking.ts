/**
 * The per-gateway ingest limit of a link connection (SPEC §4.9): each acked batch books
 * `events / rate` seconds, and the ack tells the gateway how long to wait before the next one,
 * so a gateway sending faster than allowed is slowed down rather than having events dropped.
 * Pure: the caller passes `now`.
 */

/** The longest wait one ack asks for (SPEC §4.9: `delay_ms` is capped). */
export const MAX_RATE_DELAY_MS = 60_000;

export class RateBooking {
  readonly #eventsPerSecond: number;
  /** When the gateway may send again without exceeding the rate (ms since epoch). */
  #freeAt = 0;

  /** `eventsPerSecond` 0 or less: no limit. */
  constructor(eventsPerSecond: number) {
    this.#eventsPerSecond = eventsPerSecond;
  }

  /** Books a batch of `events` at `now`; answers the wait in ms (0: send at once). */
  book(events: number, now: number): number {
    const rate = this.#eventsPerSecond;
    if (rate <= 0) return 0;
    this.#freeAt = Math.max(this.#freeAt, now) + (events / rate) * 1000;
    const delay = Math.round(this.#freeAt - now);
    return delay <= 0 ? 0 : Math.min(delay, MAX_RATE_DELAY_MS);
  }
}
