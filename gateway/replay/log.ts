/**
 * Text logs for `replay`: one syslog message per line (RFC 5424, RFC 3164, or the BSD file format
 * of /var/log/messages without PRI), parsed by the same codec as live syslog, transport `file`.
 * The clock is the file's own: a line's timestamp, else the previous line's, else the file's
 * mtime (which also anchors the year of BSD timestamps). Each event says its `fields.line`.
 */
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { parseSyslog, syslogErrorToEvent, syslogToEvent } from '../../protocols/syslog/index.ts';

export function replayLogLines(
  bytes: Uint8Array,
  mtime: Date,
  extraFields: Record<string, unknown>,
  publish: (event: PendingEvent, now: Date) => void,
): number {
  let clock = mtime;
  let line = 0;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    line++;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    if (raw.length === 0 || (raw.length === 1 && raw[0] === 0x0d)) continue;
    const parsed = parseSyslog(raw, { now: mtime });
    if (parsed.ok && parsed.message.timestamp) clock = parsed.message.timestamp;
    const ctx = { received: clock, transport: 'file' as const };
    const event = parsed.ok ? syslogToEvent(parsed.message, ctx) : syslogErrorToEvent(parsed.error, raw, ctx);
    event.fields = { ...event.fields, ...extraFields, line };
    publish(event, clock);
  }
  return line;
}
