/**
 * Structured logging (pino, JSON lines to stderr). Secrets never reach the log: the link token
 * and passwords are redacted by path, and nothing logs a config object whole.
 */
import pino, { type Logger } from 'pino';

export function createLogger(level: string, name = 'siem-gateway'): Logger {
  return pino(
    { name, level, redact: ['token', '*.token', 'password', '*.password', 'authorization'] },
    pino.destination(2),
  );
}
