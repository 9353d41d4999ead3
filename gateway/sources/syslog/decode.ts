/**
 * Turns one syslog frame (the bytes of one message, however it was framed) into a pending
 * event: a parsed message becomes `syslog.message`, anything unparseable becomes a counted,
 * visible `syslog.parse_error` health event, so bad input is never silently lost.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { parseSyslog, syslogErrorToEvent, syslogToEvent } from '../../../protocols/syslog/index.ts';
import type { SourceContext } from '../../pipeline/types.ts';

export interface FrameOrigin {
  transport: 'udp' | 'tcp' | 'tls';
  peer: { ip: string; port: number };
  sourceName: string;
}

export function decodeFrame(
  frame: Uint8Array,
  origin: FrameOrigin,
  ctx: SourceContext,
  maxBytes: number,
  /** The receive time (one for all the frames of a read); default now. */
  received: Date = ctx.now(),
): PendingEvent {
  const eventCtx = { received, peer: origin.peer, transport: origin.transport };
  const parsed = parseSyslog(frame, { now: received, maxBytes });
  if (parsed.ok) {
    const event = syslogToEvent(parsed.message, eventCtx);
    // A payload that announced a format (CEF) and broke it: kept whole, and counted.
    if (event.tags.includes('malformed'))
      ctx.metrics.errors.inc({
        component: origin.sourceName,
        stage: 'processing',
        code: 'malformed_payload',
      });
    return event;
  }
  ctx.metrics.errors.inc({ component: origin.sourceName, stage: 'processing', code: parsed.error.code });
  return syslogErrorToEvent(parsed.error, frame, eventCtx);
}
