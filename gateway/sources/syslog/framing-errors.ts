/**
 * Framing errors of a TCP/TLS syslog source (RFC 6587: an octet count over max_message_bytes, a
 * count not followed by SP, a stream cut inside a counted frame) as `syslog.parse_error` health
 * events, not only metrics: a sender that mis-frames, or pushes oversized frames, is visible on
 * the dashboard. Rate limited per source, since a flood of bad frames must not become a flood of
 * events: at most `maxPerSec` events a second across all connections. The errors over that are
 * counted and carried, as `suppressed` (and `suppressed_codes`), by the next event; if none comes
 * within the second, a summary event (`code: rate_limited`) carries them. So every framing error
 * is either an event or counted in one, and the events' counts add up.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  type FramingError,
  type SyslogParseError,
  syslogErrorToEvent,
} from '../../../protocols/syslog/index.ts';
import type { SourceContext } from '../../pipeline/types.ts';

export interface FramingErrorReporterOptions {
  name: string;
  transport: 'tcp' | 'tls';
  /** Events per second for the whole source; the rest are counted into the next one. */
  maxPerSec: number;
  ctx: SourceContext;
}

type Peer = { ip: string; port: number };

export function createFramingErrorReporter({ name, transport, maxPerSec, ctx }: FramingErrorReporterOptions) {
  let windowStart = Number.NEGATIVE_INFINITY;
  let sent = 0;
  let suppressed = 0;
  let codes: Record<string, number> = {};
  let lastPeer: Peer | undefined;
  let timer: NodeJS.Timeout | undefined;

  const emit = (events: PendingEvent[]) =>
    ctx.emit(events).catch((error: Error) => {
      ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
      ctx.logger.debug({ err: error.message }, 'framing error events not queued');
    });

  /** A slot in the current one-second window, if any is left. */
  const take = (t: number): boolean => {
    if (t - windowStart >= 1000) {
      windowStart = t;
      sent = 0;
    }
    if (sent >= maxPerSec) return false;
    sent++;
    return true;
  };

  const event = (error: SyslogParseError, bytes: number, peer: Peer | undefined, at: Date) => {
    const e = syslogErrorToEvent(error, new Uint8Array(0), { received: at, peer, transport });
    e.fields.bytes = bytes;
    delete e.fields.preview; // framing errors concern dropped or unread bytes: nothing to show
    if (suppressed > 0) {
      e.fields.suppressed = suppressed;
      e.fields.suppressed_codes = codes;
      suppressed = 0;
      codes = {};
    }
    return e;
  };

  /** Emits the count of suppressed errors when no event carried it within its second. */
  const flush = () => {
    timer = undefined;
    if (suppressed === 0) return;
    const at = ctx.now();
    if (!take(at.getTime())) return schedule();
    const n = suppressed;
    const summary = event(
      {
        code: 'rate_limited' as SyslogParseError['code'],
        message: `${n} framing errors not reported one by one`,
      },
      0,
      lastPeer,
      at,
    );
    void emit([summary]);
  };

  const schedule = () => {
    if (timer) return;
    timer = setTimeout(flush, Math.max(1, windowStart + 1000 - ctx.now().getTime()));
    timer.unref();
  };

  return {
    /** Counts `errors` of one connection, emitting what the rate allows. */
    report(errors: readonly FramingError[], peer: Peer): void {
      if (errors.length === 0) return;
      const at = ctx.now();
      const out: PendingEvent[] = [];
      for (const error of errors) {
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: error.code });
        if (take(at.getTime())) {
          out.push(event(error as unknown as SyslogParseError, error.bytes, peer, at));
        } else {
          suppressed++;
          codes[error.code] = (codes[error.code] ?? 0) + 1;
          lastPeer = peer;
        }
      }
      if (suppressed > 0) schedule();
      if (out.length > 0) void emit(out);
    },
    /** On stop: the suppressed count goes out now rather than being lost. */
    stop(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (suppressed === 0) return;
      windowStart = Number.NEGATIVE_INFINITY;
      flush();
    },
  };
}

export type FramingErrorReporter = ReturnType<typeof createFramingErrorReporter>;
