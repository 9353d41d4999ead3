/**
 * Test helpers for the access-control suites: a pino logger at debug level whose output is kept
 * in memory (to prove no secret reaches the logs), and a movable clock.
 */
import pino, { type Logger } from 'pino';

export function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, text: () => lines.join('') };
}

export function movableClock() {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms: number) => {
      offset += ms;
    },
  };
}
