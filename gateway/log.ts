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

/** Lets one message through per key and interval, counting what it held back. */
export function rateLimited(logger: Logger, intervalMs = 10_000) {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (key: string, message: string, detail: Record<string, unknown> = {}) => {
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < intervalMs) {
      seen.suppressed += 1;
      return;
    }
    if (last.size > 1000) last.clear();
    last.set(key, { at: now, suppressed: 0 });
    logger.warn({ ...detail, suppressed: seen?.suppressed ?? 0 }, message);
  };
}
