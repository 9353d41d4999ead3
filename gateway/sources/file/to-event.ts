/**
 * A record of a file as an Event: `format: syslog` parses it as a syslog line (the syslog codec,
 * transport `file`, like `replay` reads logs), else, or when it does not parse, a plain
 * `file.line` event. Every event names its file and the byte offset of its record
 * (`fields.path`, `fields.offset`: ECS log.file.path and log.offset), and a cut line is tagged
 * `truncated` with the bytes it lost (`fields.truncated_bytes`).
 */
import { EVENT_LIMITS, type PendingEvent } from '../../../protocols/event/schema.ts';
import { parseSyslog, syslogToEvent, truncateUtf8 } from '../../../protocols/syslog/index.ts';
import type { FileSourceConfig } from './config.ts';
import type { FileRecord } from './multiline.ts';

export interface FileEventContext {
  path: string;
  received: Date;
  host: string;
}

export function recordToEvent(
  record: FileRecord,
  config: Pick<FileSourceConfig, 'format' | 'kind' | 'severity'>,
  ctx: FileEventContext,
): PendingEvent {
  const received = ctx.received.toISOString();
  let event: PendingEvent | undefined;
  if (config.format === 'syslog' && record.text.length > 0) {
    const parsed = parseSyslog(record.text, { now: ctx.received, maxBytes: EVENT_LIMITS.MESSAGE_BYTES * 4 });
    if (parsed.ok) event = syslogToEvent(parsed.message, { received: ctx.received, transport: 'file' });
  }
  if (!event) {
    const [message, cut] = truncateUtf8(record.text, EVENT_LIMITS.MESSAGE_BYTES);
    event = {
      ts: received,
      received,
      time_source: 'gateway',
      source: 'file',
      kind: config.kind,
      action: 'file.line',
      severity: config.severity,
      message,
      host: ctx.host,
      fields: {},
      tags: cut ? ['truncated'] : [],
    };
  }
  event.fields.path = ctx.path;
  event.fields.offset = record.start;
  if (record.lines > 1) event.fields.lines = record.lines;
  if (record.truncatedBytes > 0) {
    event.fields.truncated_bytes = record.truncatedBytes;
    if (!event.tags.includes('truncated')) event.tags.push('truncated');
  }
  if (record.split) event.tags.push('multiline_split');
  return event;
}
