/**
 * Turns input the parser rejected (empty, too large, or bad UTF-8 when rejecting it) into a
 * `health` event (action `syslog.parse_error`), so bad input is counted and visible on the
 * dashboard instead of silently dropped. The event carries a short escaped preview of the bytes,
 * never the whole input: a flood of garbage must not become a flood of stored garbage.
 */
import type { PendingEvent } from '../event/schema.ts';
import { decodeUtf8, utf8Length } from './parse.ts';
import type { SyslogParseError } from './types.ts';
import { type SyslogEventContext, syslogIdentity } from './to-event.ts';

/** Characters of the input kept in `fields.preview`. */
export const PREVIEW_CHARS = 256;

/**
 * The first `PREVIEW_CHARS` characters of the input, with control characters, DEL, C1 controls
 * and backslash escaped (`\n`, `\t`, `\xHH`, `\\`), so the preview is printable and unambiguous.
 */
export function escapePreview(raw: string | Uint8Array): string {
  const text = typeof raw === 'string' ? raw : decodeUtf8(raw.subarray(0, PREVIEW_CHARS * 4)).text;
  const chars = Array.from(text.slice(0, PREVIEW_CHARS * 2)).slice(0, PREVIEW_CHARS);
  let out = '';
  for (const ch of chars) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

export function syslogErrorToEvent(
  error: SyslogParseError,
  raw: string | Uint8Array,
  ctx: SyslogEventContext,
): PendingEvent {
  const bytes = typeof raw === 'string' ? utf8Length(raw) : raw.length;
  const event: PendingEvent = {
    ts: ctx.received.toISOString(),
    received: ctx.received.toISOString(),
    time_source: 'gateway',
    source: 'syslog',
    kind: 'health',
    action: 'syslog.parse_error',
    severity: 4,
    message: `syslog message rejected: ${error.message}`,
    ...syslogIdentity(null, ctx.peer),
    fields: { code: error.code, bytes, preview: escapePreview(raw), transport: ctx.transport },
    tags: [],
  };
  if (ctx.peer) event.src = { ip: ctx.peer.ip.slice(0, 64), port: ctx.peer.port };
  return event;
}
