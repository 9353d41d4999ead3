/**
 * Structured logging (pino, JSON lines to stderr). Tokens and passwords are redacted by path.
 */
import pino, { type Logger } from 'pino';

export function createLogger(level: string, name = 'siem-central'): Logger {
  return pino(
    { name, level, redact: ['token', '*.token', 'password', '*.password', 'authorization'] },
    pino.destination(2),
  );
}
