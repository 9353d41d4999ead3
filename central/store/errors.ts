/**
 * Typed errors the store throws for bad caller input, so the REST API can answer 400 for these
 * and 500 for everything else without matching on message text.
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
