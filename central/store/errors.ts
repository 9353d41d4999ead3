/**
 * Typed errors the store throws for bad caller input, so the REST API can answer 400 for these
 * and 500 for everything else without matching on message text; and the one a writer retries.
 */

/** A query the store refuses: an invalid date, a non-numeric severity, a malformed cursor. */
export class InvalidQueryError extends Error {
  override name = 'InvalidQueryError';
}

/** The `cursor` of an `EventQuery` is not one this store produced (tampered, truncated, foreign). */
export class InvalidCursorError extends InvalidQueryError {
  override name = 'InvalidCursorError';
  constructor(reason: string) {
    super(`invalid cursor: ${reason}`);
  }
}

/**
 * Some rows of a batch are held by another transaction still open past the store's lock wait
 * (another central node hung in the middle of writing the same events): nothing was stored, and
 * trying again later is right, as the holder ends one way or the other.
 */
export class RowsHeldError extends Error {
  override name = 'RowsHeldError';
  constructor(waitedMs: number) {
    super(`rows of the batch are held by another open transaction (waited ${waitedMs} ms)`);
  }
}
